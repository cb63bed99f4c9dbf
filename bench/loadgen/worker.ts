// A generator process: holds a share of the clients, bound to its own 127.0.0.x source address,
// sends its share of each step's messages on an open-loop schedule and measures what arrives.
// Driven by the coordinator (coordinator.ts) over the fork IPC channel; see messages.ts.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { io as ioClient, type Socket } from 'socket.io-client';
import { LatencyHistogram } from '../metrics/histogram.ts';
import { benchContent, FRAME_MARK, readFrameId, readTag, type BenchTag } from './bench-content.ts';
import type { ChatMix, ClientSpec, Command, Progress, Protocol, Reply, StepPlan, StepStats, WorkerStats } from './messages.ts';

interface ClientState {
  spec: ClientSpec;
  ws?: WebSocket;
  sio?: Socket;
  open: boolean;
  /** We closed it (or are about to): its close is not counted as unexpected. */
  closing: boolean;
  /** Per sender, the highest seq seen: a lower or equal one is a duplicate. */
  lastSeq: Map<number, number>;
  /** Highest frame id seen (im), the last_id to reconnect with. */
  lastId: number;
  seq: number;
  failoverIndex: number;
  reconnectAttempts: number;
  onWelcome?: () => void;
  welcomedOnce: boolean;
  /** `chat`: per conversation (index in spec.conversations), the highest message id seen and our seq. */
  convLastId: number[];
  convSeq: number[];
  /** `chat`: conversations whose catch-up failed (1500 naming them), to resume again, as the SDK does. */
  retrying?: Set<string>;
}

interface StepState extends StepPlan {
  sent: number;
  skipped: number;
  expected: number;
  received: number;
  duplicates: number;
  latency: LatencyHistogram;
  sendLag: LatencyHistogram;
  loopLagP99: number;
  loopLagMax: number;
  /** `chat`: new deliveries per conversation. */
  byConversation: Map<string, number>;
  /** `chat`: typing and read-receipt frames received while the step ran. */
  typingReceived: number;
  receiptsReceived: number;
}

let epoch = 0n;
let protocol: Protocol = 'im';
let localAddress = '127.0.0.1';
let reconnectMode = false;
const clients = new Map<number, ClientState>();
let steps: StepState[] = [];
let sendsDone = true;
let roomSizes: number[] = [];
let chatMix: ChatMix | undefined;
let received = 0;
/** `chat`: per private conversation, what its members got and resumed from, to explain a shortfall (see collect). */
const privateLog = new Map<string, string[]>();
let otherFrames = 0;
let unexpectedCloses = 0;
const closeCodes: Record<string, number> = {};
const errorFrames: Record<string, number> = {};
let reconnected = 0;
let lastWelcomeMs = 0;
let firstCloseMs = 0;
let reconnectFailures = 0;
let typingSent = 0;
let readSent = 0;
let readSkipped = 0;
let typingReceived = 0;
let receiptsReceived = 0;
/** `chat`: a sender's messages to one conversation carry their own sender number (seq per conversation). */
const CONVERSATIONS_PER_CLIENT = 32;

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

const nowMs = () => Number(process.hrtime.bigint() - epoch) / 1e6;

function reply(message: Reply): void {
  process.send?.(message);
}

process.on('message', (command: Command) => {
  handle(command).catch((err: Error) => reply({ type: 'error', message: err.stack ?? err.message }));
});
process.on('disconnect', () => process.exit(0));

async function handle(command: Command): Promise<void> {
  switch (command.type) {
    case 'init':
      epoch = BigInt(command.epochNs);
      protocol = command.protocol;
      localAddress = command.localAddress;
      return;
    case 'connect':
      reconnectMode = command.reconnect;
      return reply(await connectAll(command.clients, command.concurrency, command.timeoutMs));
    case 'run':
      roomSizes = command.roomSizes;
      chatMix = command.chat;
      return run(command.steps, command.senders, command.payloadBytes, command.phase);
    case 'progress':
      return reply(progress());
    case 'collect':
      return reply(collect());
    case 'close':
      for (const state of clients.values()) closeClient(state);
      reply({ type: 'closed' });
      setTimeout(() => process.exit(0), 200);
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Connecting

const CONNECT_ATTEMPTS = 5;

async function connectAll(specs: ClientSpec[], concurrency: number, timeoutMs: number) {
  const started = Date.now();
  let opened = 0;
  let failed = 0;
  let retried = 0;
  const errors: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      const state = newState(spec);
      clients.set(spec.id, state);
      // A refused upgrade (a gateway shedding a connect storm answers 503) is tried again after a
      // pause, as the SDK does; a client that never opens would owe every message of the run.
      for (let attempt = 1; ; attempt += 1) {
        try {
          await openClient(state, spec.url, timeoutMs);
          opened += 1;
          break;
        } catch (err) {
          if (attempt < CONNECT_ATTEMPTS) {
            retried += 1;
            await new Promise((resolve) => setTimeout(resolve, 500 * attempt + Math.random() * 500));
            continue;
          }
          failed += 1;
          if (errors.length < 5) errors.push((err as Error).message);
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return { type: 'connected' as const, opened, failed, retried, errors, ms: Date.now() - started };
}

function newState(spec: ClientSpec): ClientState {
  const n = spec.conversations?.length ?? 0;
  return {
    spec,
    open: false,
    closing: false,
    lastSeq: new Map(),
    lastId: 0,
    seq: 0,
    failoverIndex: 0,
    reconnectAttempts: 0,
    welcomedOnce: false,
    convLastId: spec.conversationLastIds?.slice(0, n) ?? new Array<number>(n).fill(0),
    convSeq: new Array<number>(n).fill(0),
  };
}

/** Opens the socket and resolves once the server says it is in the room (im: welcome notice). */
function openClient(state: ClientState, url: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`no welcome within ${timeoutMs} ms`)), timeoutMs);
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      state.onWelcome = undefined;
      state.open = true;
      resolve();
    };
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      state.onWelcome = undefined;
      // Forget the socket first, so its close does not count as an unexpected one.
      const { ws, sio } = state;
      state.ws = undefined;
      state.sio = undefined;
      ws?.terminate();
      sio?.disconnect();
      reject(err);
    };
    state.onWelcome = done;
    if (protocol !== 'sio') openIm(state, url, fail);
    else openSio(state, url, fail);
  });
}

// Source ports are picked here rather than by the kernel. With localAddress alone, bind() takes
// port 0 and Linux searches its port table for a free one, which costs milliseconds per socket
// once ~10,000 are open (22 s of CPU for 18,000 sockets, against 0.8 s with explicit ports): a
// reconnect storm then measured the generator's binds, not the server. Each worker has its own
// source address, so its ports only clash with its own sockets (and whatever listens on all
// addresses): such a port is skipped.
const PORT_LOW = 10_000;
const PORT_HIGH = 65_000;
let nextPort = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW));

function takePort(): number {
  const port = nextPort;
  nextPort = nextPort >= PORT_HIGH ? PORT_LOW : nextPort + 1;
  return port;
}

function openIm(state: ClientState, url: string, fail: (err: Error) => void, portAttempt = 0): void {
  const options = { localAddress, localPort: takePort(), perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: 120_000 };
  const ws = new WebSocket(url, options);
  state.ws = ws;
  ws.on('message', (data: Buffer) => (protocol === 'chat' ? onChatFrame(state, data) : onImFrame(state, data)));
  // Part 2: the first frame names the conversations to resume; its caught-up notice is the welcome.
  if (protocol === 'chat') ws.on('open', () => ws.send(resumeFrame(state)));
  ws.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE' && portAttempt < 50 && state.ws === ws) {
      state.ws = undefined;
      return openIm(state, url, fail, portAttempt + 1);
    }
    fail(err);
  });
  ws.on('unexpected-response', (_req, res) => fail(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
  ws.on('close', (code, reason) => {
    if (state.ws !== ws) return;
    // Closed before the welcome: a failed connect (the server gave up on joining, or dropped a
    // socket that did not answer its ping), not an open client lost.
    if (state.onWelcome) return fail(new Error(`closed ${code} ${String(reason)} before the welcome`));
    onClosed(state, code);
  });
}

function openSio(state: ClientState, url: string, fail: (err: Error) => void): void {
  const socket = ioClient(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: 30_000,
    // Passed through to ws by engine.io-client; missing from its option types.
    localAddress,
  } as unknown as Parameters<typeof ioClient>[1]);
  state.sio = socket;
  socket.on('connect', () => state.onWelcome?.());
  socket.on('connect_error', (err) => fail(err));
  socket.on('message', (content: string) => {
    if (typeof content === 'string' && content.charCodeAt(0) === 0x42 /* B */) {
      const tag = readTag(content, 2);
      if (tag) return onBench(state, tag);
    }
    otherFrames += 1;
  });
  socket.on('disconnect', (reason) => {
    if (state.sio !== socket) return;
    onClosed(state, reason === 'io client disconnect' ? 1000 : 1006);
  });
}

const SYSTEM_PREFIX = Buffer.from('{"msg_type":1,');

function onImFrame(state: ClientState, data: Buffer): void {
  const at = data.indexOf(FRAME_MARK);
  if (at >= 0) {
    if (reconnectMode) {
      const id = readFrameId(data);
      if (id > state.lastId) state.lastId = id;
    }
    const tag = readTag(data, at + 3);
    if (tag) return onBench(state, tag);
  }
  if (data.subarray(0, SYSTEM_PREFIX.length).equals(SYSTEM_PREFIX)) {
    const frame = JSON.parse(data.toString('utf8')) as { code?: number };
    if (frame.code === 1500 && protocol === 'chat') {
      // The resume failed as a whole (the gateway's MySQL did not answer): send it again, as the SDK does.
      countError(data);
      const ws = state.ws;
      setTimeout(() => ws && state.ws === ws && ws.readyState === ws.OPEN && ws.send(resumeFrame(state)), 500 + Math.random() * 1000);
    } else if (frame.code === 0) {
      const wake = state.onWelcome;
      state.onWelcome = undefined;
      if (state.welcomedOnce && reconnectMode && (wake || state.retrying)) {
        // Back and caught up: the reconnect's resume, or the last retry of a conversation it failed.
        if (wake) reconnected += 1;
        lastWelcomeMs = Math.max(lastWelcomeMs, nowMs());
        state.open = true;
      }
      if (state.retrying?.size === 0) state.retrying = undefined;
      state.welcomedOnce = true;
      wake?.();
    } else countError(data);
    return;
  }
  otherFrames += 1;
}

/** Resume (msg_type 10): on the first open nothing (live frames only), after a reconnect every conversation from its last id. */
function resumeFrame(state: ClientState): string {
  const conversations: Record<string, number> = {};
  if (state.welcomedOnce) state.spec.conversations?.forEach((c, i) => (conversations[c] = state.convLastId[i]!));
  for (const [conversation, lastId] of Object.entries(conversations)) logPrivate(conversation, `client ${state.spec.id} resumes after ${lastId}`);
  return JSON.stringify({ msg_type: 10, conversations });
}

function logPrivate(conversation: string, entry: string): void {
  if (!conversation.startsWith('p:')) return;
  let log = privateLog.get(conversation);
  if (!log) privateLog.set(conversation, (log = []));
  log.push(`${Math.round(nowMs())} ${entry}`);
}

const CONVERSATION_PREFIX = Buffer.from('{"conversation":"');
const TYPING_MARK = Buffer.from('"msg_type":8,');
const RECEIPT_MARK = Buffer.from('"msg_type":9,');

function onChatFrame(state: ClientState, data: Buffer): void {
  if (data.subarray(0, CONVERSATION_PREFIX.length).equals(CONVERSATION_PREFIX)) {
    const end = data.indexOf(0x22 /* " */, CONVERSATION_PREFIX.length);
    const at = data.indexOf(FRAME_MARK);
    if (at >= 0) {
      const conversation = data.toString('latin1', CONVERSATION_PREFIX.length, end);
      const index = state.spec.conversations?.indexOf(conversation) ?? -1;
      const id = readFrameId(data);
      if (index >= 0 && id > state.convLastId[index]!) state.convLastId[index] = id;
      const tag = readTag(data, at + 3);
      if (tag) logPrivate(conversation, `client ${state.spec.id} got ${tag.step}/${tag.sender}/${tag.seq} id ${id}`);
      if (tag) return onBench(state, tag, conversation);
    }
    if (data.indexOf(TYPING_MARK) > 0) {
      typingReceived += 1;
      const step = stepRunning();
      if (step) step.typingReceived += 1;
    } else if (data.indexOf(RECEIPT_MARK) > 0) {
      receiptsReceived += 1;
      const step = stepRunning();
      if (step) step.receiptsReceived += 1;
    } else if (data.indexOf('"msg_type":1,') > 0) onConversationError(state, data);
    else otherFrames += 1;
    return;
  }
  onImFrame(state, data);
}

/** A conversation's catch-up failed (1500 naming it; the gateway holds it back until resumed): resume it again after a pause. */
function onConversationError(state: ClientState, data: Buffer): void {
  const frame = JSON.parse(data.toString('utf8')) as { code?: number; conversation: string };
  countError(data);
  if (frame.code !== 1500) return;
  const first = !state.retrying?.size;
  (state.retrying ??= new Set()).add(frame.conversation);
  if (!first) return;
  const ws = state.ws;
  setTimeout(() => {
    const names = [...(state.retrying ?? [])];
    state.retrying?.clear();
    if (!ws || state.ws !== ws || ws.readyState !== ws.OPEN || names.length === 0) return;
    const conversations: Record<string, number> = {};
    for (const name of names) conversations[name] = state.convLastId[state.spec.conversations!.indexOf(name)] ?? 0;
    ws.send(JSON.stringify({ msg_type: 10, conversations }));
  }, 500 + Math.random() * 1000);
}

function countError(data: Buffer): void {
  const frame = JSON.parse(data.toString('utf8')) as { code?: number };
  const key = String(frame.code);
  errorFrames[key] = (errorFrames[key] ?? 0) + 1;
}

function onBench(state: ClientState, tag: BenchTag, conversation?: string): void {
  received += 1;
  const step = steps[tag.step];
  if (!step) return;
  step.received += 1;
  const last = state.lastSeq.get(tag.sender) ?? 0;
  if (tag.seq <= last) {
    step.duplicates += 1;
    return;
  }
  state.lastSeq.set(tag.sender, tag.seq);
  if (conversation !== undefined) step.byConversation.set(conversation, (step.byConversation.get(conversation) ?? 0) + 1);
  const sendAtMs = tag.sendAtUs / 1000;
  if (sendAtMs >= step.startMs + step.warmupMs) step.latency.recordMs(nowMs() - sendAtMs);
}

/** The step whose time window holds now (typing and receipts carry no step tag). */
function stepRunning(): StepState | undefined {
  const now = nowMs();
  return steps.find((s) => now >= s.startMs && now < s.endMs);
}

function onClosed(state: ClientState, code: number): void {
  const wasOpen = state.open;
  state.open = false;
  if (state.closing) return;
  unexpectedCloses += 1;
  closeCodes[String(code)] = (closeCodes[String(code)] ?? 0) + 1;
  if (firstCloseMs === 0) firstCloseMs = nowMs();
  if (reconnectMode && wasOpen) scheduleReconnect(state);
}

function scheduleReconnect(state: ClientState): void {
  const urls = state.spec.failover ?? [];
  if (urls.length === 0 || state.reconnectAttempts >= 100) {
    reconnectFailures += 1;
    return;
  }
  state.reconnectAttempts += 1;
  // A little spread, as real clients have; most reconnect within the first 100 ms.
  const delay = state.reconnectAttempts === 1 ? Math.random() * 100 : 200 + Math.random() * 300;
  setTimeout(() => {
    const base = urls[state.failoverIndex++ % urls.length]!;
    const url = new URL(base);
    if (state.lastId > 0) url.searchParams.set('last_id', String(state.lastId));
    openClient(state, url.toString(), 30_000).then(
      () => {
        state.reconnectAttempts = 0;
      },
      () => scheduleReconnect(state),
    );
  }, delay);
}

function closeClient(state: ClientState): void {
  state.closing = true;
  state.ws?.terminate();
  state.sio?.disconnect();
}

// ---------------------------------------------------------------------------------------------
// Sending (open loop)

function run(plans: StepPlan[], senderIds: number[], payloadBytes: number, phase: number): void {
  steps = plans.map((plan) => ({
    ...plan,
    sent: 0,
    skipped: 0,
    expected: 0,
    received: 0,
    duplicates: 0,
    latency: new LatencyHistogram(),
    sendLag: new LatencyHistogram(),
    loopLagP99: 0,
    loopLagMax: 0,
    byConversation: new Map(),
    typingReceived: 0,
    receiptsReceived: 0,
  }));
  // Event-loop delay per step: reset as a step starts, read as it ends.
  for (const step of steps) {
    setTimeout(() => loopDelay.reset(), Math.max(0, step.startMs - nowMs()));
    setTimeout(() => {
      step.loopLagP99 = loopDelay.percentile(99) / 1e6;
      step.loopLagMax = loopDelay.max / 1e6;
    }, Math.max(0, step.endMs - nowMs()));
  }
  const senders = senderIds.map((id) => clients.get(id)).filter((s): s is ClientState => s !== undefined);
  if (chatMix && senders.length > 0) startChatExtras(chatMix, senders);
  sendsDone = steps.every((s) => s.rate <= 0) || senders.length === 0;
  if (sendsDone) {
    reply({ type: 'ran' });
    return;
  }

  let stepIndex = 0;
  let k = 0;
  let turn = 0;
  const tick = () => {
    const now = nowMs();
    let budget = 500;
    while (stepIndex < steps.length) {
      const step = steps[stepIndex]!;
      const due = step.rate > 0 ? step.startMs + ((k + phase) * 1000) / step.rate : Infinity;
      if (due >= step.endMs) {
        stepIndex += 1;
        k = 0;
        continue;
      }
      if (due > now) {
        // Sleep rather than spin: a spinning generator takes the core the server needs. A send
        // that leaves up to a timer tick late is counted against the server (latency runs from
        // `due`), so the figures can only err on the pessimistic side.
        setTimeout(tick, Math.max(1, Math.floor(due - now)));
        return;
      }
      // Due: it goes out now, however late, stamped with the time it was meant to leave.
      const sender = senders[turn++ % senders.length]!;
      sendOne(step, sender, due, now, payloadBytes);
      k += 1;
      if (--budget === 0) {
        // Let arrivals be read between batches; the schedule, not this loop, sets the rate.
        setImmediate(tick);
        return;
      }
    }
    sendsDone = true;
    reply({ type: 'ran' });
  };
  const first = steps[0]!.startMs - nowMs();
  setTimeout(tick, Math.max(0, first));
}

function sendOne(step: StepState, sender: ClientState, dueMs: number, nowMsValue: number, payloadBytes: number): void {
  if (!sender.open) {
    step.skipped += 1;
    return;
  }
  let room = sender.spec.room;
  if (protocol === 'chat' && chatMix) {
    // The inbox mix: a room or a private chat of the sender's, its own seq per conversation (a
    // receiver sharing two conversations with the sender may get them in either order).
    const slot = pickConversation(sender, chatMix);
    room = sender.spec.conversationRooms![slot]!;
    const seq = ++sender.convSeq[slot]!;
    const content = benchContent(step.index, sender.spec.id * CONVERSATIONS_PER_CLIENT + slot, seq, Math.round(dueMs * 1000), payloadBytes);
    sender.ws!.send(`{"conversation":"${sender.spec.conversations![slot]}","msg_type":4,"content":"${content}"}`);
  } else {
    sender.seq += 1;
    const content = benchContent(step.index, sender.spec.id, sender.seq, Math.round(dueMs * 1000), payloadBytes);
    if (sender.ws) sender.ws.send(`{"msg_type":4,"content":"${content}"}`);
    else sender.sio!.emit('message', content);
  }
  step.sent += 1;
  step.expected += roomSizes[room] ?? 1;
  step.sendLag.recordMs(nowMsValue - dueMs);
}

function pickConversation(sender: ClientState, mix: ChatMix): number {
  const n = sender.spec.conversations!.length;
  const rooms = mix.firstPrivate;
  const privates = n - rooms;
  const toPrivate = privates > 0 && (rooms === 0 || Math.random() < mix.privateShare);
  return toPrivate ? rooms + Math.floor(Math.random() * privates) : Math.floor(Math.random() * rooms);
}

/**
 * Typing and read frames beside the messages, from random senders to random conversations of
 * theirs, over the steps' span. Not open-loop timed (nothing measures their latency): a 10 ms
 * timer sends what fell due. A read names the newest id this socket saw in that conversation.
 */
function startChatExtras(mix: ChatMix, senders: ClientState[]): void {
  const first = steps[0]!.startMs;
  const last = steps.at(-1)!.endMs;
  let typingDone = 0;
  let readDone = 0;
  const timer = setInterval(() => {
    const now = nowMs();
    if (now < first) return;
    const elapsed = (Math.min(now, last) - first) / 1000;
    while (typingDone < Math.floor(elapsed * mix.typingRate)) {
      typingDone += 1;
      const sender = senders[Math.floor(Math.random() * senders.length)]!;
      if (!sender.open || !sender.ws) continue;
      const slot = pickConversation(sender, mix);
      sender.ws.send(`{"conversation":"${sender.spec.conversations![slot]}","msg_type":8}`);
      typingSent += 1;
    }
    while (readDone < Math.floor(elapsed * mix.readRate)) {
      readDone += 1;
      const sender = senders[Math.floor(Math.random() * senders.length)]!;
      const slot = pickConversation(sender, mix);
      const id = sender.convLastId[slot]!;
      if (!sender.open || !sender.ws || id === 0) {
        readSkipped += 1;
        continue;
      }
      sender.ws.send(`{"conversation":"${sender.spec.conversations![slot]}","msg_type":9,"last_read_id":${id}}`);
      readSent += 1;
    }
    if (now >= last) clearInterval(timer);
  }, 10);
}

// ---------------------------------------------------------------------------------------------
// Reporting

function openCount(): number {
  let open = 0;
  for (const state of clients.values()) if (state.open) open += 1;
  return open;
}

function progress(): Progress {
  return { type: 'progress', received, otherFrames, open: openCount(), sendsDone };
}

function collect(): WorkerStats {
  const stepStats: StepStats[] = steps.map((s) => ({
    index: s.index,
    sent: s.sent,
    skipped: s.skipped,
    expected: s.expected,
    received: s.received,
    duplicates: s.duplicates,
    latency: s.latency.encode(),
    sendLag: s.sendLag.encode(),
    loopLagP99: round(s.loopLagP99),
    loopLagMax: round(s.loopLagMax),
    typingReceived: s.typingReceived,
    receiptsReceived: s.receiptsReceived,
  }));
  const idleLoopLagP99 = round(loopDelay.percentile(99) / 1e6);
  const idleLoopLagMax = round(loopDelay.max / 1e6);
  loopDelay.reset();
  return {
    type: 'stats',
    steps: stepStats,
    open: openCount(),
    unexpectedCloses,
    closeCodes,
    errorFrames,
    otherFrames,
    reconnected,
    lastWelcomeMs: round(lastWelcomeMs),
    firstCloseMs: round(firstCloseMs),
    reconnectFailures,
    typingSent,
    readSent,
    readSkipped,
    typingReceived,
    receiptsReceived,
    deliveredByConversation: protocol === 'chat' ? steps.map((s) => Object.fromEntries(s.byConversation)) : undefined,
    privateLog: protocol === 'chat' ? Object.fromEntries(privateLog) : undefined,
    idleLoopLagP99,
    idleLoopLagMax,
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
