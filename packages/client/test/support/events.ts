import type { ChatSocket, ChatSocketEvents, ChatMessage, StateChange } from '../../src/index.ts';

/** Resolves with the args of the next `type` event matching `match` (or rejects after `timeoutMs`). */
export function nextEvent<K extends keyof ChatSocketEvents>(
  socket: ChatSocket,
  type: K,
  match: (...args: ChatSocketEvents[K]) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<ChatSocketEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${String(type)} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = socket.on(type, (...args) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    });
  });
}

/** Records what a socket tells its listeners, for assertions on the whole story. */
export function record(socket: ChatSocket) {
  const messages: ChatMessage[] = [];
  const states: StateChange[] = [];
  socket.on('message', (m) => messages.push(m));
  socket.on('state', (s) => states.push(s));
  return { messages, states };
}
