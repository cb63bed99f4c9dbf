import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * Ports this process handed out. The kernel may offer a closed port again at once, before the
 * process it was for has bound it: a gateway then took the API's port, and the API's requests
 * reached the gateway (seen once in a full test run).
 */
const handedOut = new Set<number>();

/** A port nobody listens on right now (the OS picks it), never one this process handed out before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    server.close();
    await once(server, 'close');
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}
