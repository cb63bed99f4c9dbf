/**
 * What the coordinator and its generator processes say to each other over the fork IPC channel.
 * Times are milliseconds since the run's shared epoch: a `process.hrtime` reading (CLOCK_MONOTONIC,
 * the same clock in every process on the box) that the coordinator hands to each worker.
 */

/** Which server a client talks to: this cluster's gateways, or the Socket.IO baseline. */
/** `chat`: this cluster's Part 2 socket (`ws /api/chat`), conversations named in every frame. */
export type Protocol = 'im' | 'sio' | 'chat';

export interface ClientSpec {
  /** Global index of the client; senders are named by it inside message contents. */
  id: number;
  /** Index of the room (conversation) the client is in: recipients of a message = its room. */
  room: number;
  /** `im`: the full ws URL, token included; `sio`: the Socket.IO server's base URL. */
  url: string;
  /** After an unexpected close (reconnect mode), URLs to reconnect to, tried in turn, with last_id. */
  failover?: string[];
  /**
   * `chat` only: the conversations the client sends to and resumes (at most 32), and for each
   * its index in `roomSizes` (sockets that get a message sent there).
   */
  conversations?: string[];
  conversationRooms?: number[];
  /**
   * `chat` only: the newest id the client already has in each of `conversations` (0 for none), as
   * a client that loaded its inbox knows them: a resume asks only for what came after.
   */
  conversationLastIds?: number[];
}

/** `chat` only: the inbox mix each worker sends besides its messages. */
export interface ChatMix {
  /** Share of messages sent to private chats (the rest to rooms): 0–1. */
  privateShare: number;
  /** Index in ClientSpec.conversations where private chats start (rooms come first). */
  firstPrivate: number;
  /** This worker's typing (msg_type 8) and read (msg_type 9) frames per second, spread over the steps. */
  typingRate: number;
  readRate: number;
}

export interface StepPlan {
  index: number;
  startMs: number;
  endMs: number;
  /** Messages intended before startMs + warmupMs count for loss but not for latency. */
  warmupMs: number;
  /** This worker's share of the step's rate, messages per second (0: none). */
  rate: number;
}

export type Command =
  | { type: 'init'; epochNs: string; protocol: Protocol; localAddress: string; workerIndex: number }
  | { type: 'connect'; clients: ClientSpec[]; concurrency: number; timeoutMs: number; reconnect: boolean }
  | {
      type: 'run';
      steps: StepPlan[];
      /** Ids of this worker's clients that send, in turn. */
      senders: number[];
      /** Sockets per room, so a send knows how many deliveries to expect. */
      roomSizes: number[];
      payloadBytes: number;
      /** 0–1: shifts this worker's send times so workers interleave instead of bursting together. */
      phase: number;
      chat?: ChatMix;
    }
  | { type: 'progress' }
  | { type: 'collect' }
  | { type: 'close' };

export interface ConnectResult {
  type: 'connected';
  opened: number;
  /** Clients that could not open after every attempt. */
  failed: number;
  /** Attempts that failed and were made again (a refused upgrade, no welcome in time). */
  retried: number;
  errors: string[];
  ms: number;
}

export interface Progress {
  type: 'progress';
  /** Bench messages received (all steps), and frames that were not bench messages. */
  received: number;
  otherFrames: number;
  open: number;
  sendsDone: boolean;
}

export interface StepStats {
  index: number;
  sent: number;
  /** Sends that could not go out because the socket was not open. */
  skipped: number;
  expected: number;
  received: number;
  duplicates: number;
  /** Encoded LatencyHistogram of intended-send → receive, after warm-up. */
  latency: string;
  /** Encoded LatencyHistogram of how late each send left relative to its intended time. */
  sendLag: string;
  /** Event-loop delay over the step, ms. */
  loopLagP99: number;
  loopLagMax: number;
  /** `chat`: typing (8) and read-receipt (9) frames received while the step ran. */
  typingReceived: number;
  receiptsReceived: number;
}

export interface WorkerStats {
  type: 'stats';
  steps: StepStats[];
  open: number;
  unexpectedCloses: number;
  closeCodes: Record<string, number>;
  /** Error frames from the server by code (1007 throttled, 1500 not stored, …). */
  errorFrames: Record<string, number>;
  otherFrames: number;
  /** Reconnect mode: how many clients came back, and when the last of them got its welcome. */
  reconnected: number;
  lastWelcomeMs: number;
  firstCloseMs: number;
  reconnectFailures: number;
  /** `chat`: typing and read frames sent, and skipped (a read needs an id seen in that conversation). */
  typingSent: number;
  readSent: number;
  readSkipped: number;
  /** `chat`: typing (8) and read-receipt (9) frames received. */
  typingReceived: number;
  receiptsReceived: number;
  /** `chat`: per step, new (not duplicate) bench messages received per conversation: where a shortfall is. */
  deliveredByConversation?: Array<Record<string, number>>;
  /** `chat`: per private conversation, time-stamped deliveries and resumes of its members (explains a shortfall). */
  privateLog?: Record<string, string[]>;
  /** Loop lag since the last collect, outside steps (idle holding). */
  idleLoopLagP99: number;
  idleLoopLagMax: number;
}

export type Reply = ConnectResult | Progress | WorkerStats | { type: 'ran' } | { type: 'closed' } | { type: 'error'; message: string };
