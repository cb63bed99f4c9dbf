/**
 * What one socket round trip costs on this machine, apart from any server logic: a client sends
 * 150 bytes to an echo server in another process and waits for them to come back, 5,000 times,
 * over loopback TCP and over a Unix socket. Prints the client's CPU per round trip.
 *
 *   node --import tsx bench/probes/loopback-cost.ts
 *
 * Why it matters: every message on the private-chat path crosses such sockets several times
 * (client → gateway, gateway ↔ Redis, gateway ↔ MariaDB, Redis → other gateway → client), and
 * at a few thousand messages per second most of them wake an idle process. The figure printed
 * here is the floor under the bench's "server CPU per delivery" at low rates.
 */
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROUND_TRIPS = 5_000;
const SOCKET_PATH = join(tmpdir(), `loopback-cost-${process.pid}.sock`);

if (process.argv[2] === 'echo') {
  const server = net.createServer((socket) => socket.on('data', (data) => socket.write(data)));
  const where = process.argv[3] === 'unix' ? process.argv[4]! : 0;
  server.listen(where, () => process.send!(where || (server.address() as net.AddressInfo).port));
} else {
  for (const kind of ['tcp', 'unix'] as const) {
    const echo = fork(new URL(import.meta.url).pathname, ['echo', kind, SOCKET_PATH], { execArgv: process.execArgv });
    const address = await new Promise<string | number>((resolve) => echo.once('message', (m) => resolve(m as string | number)));
    const socket = typeof address === 'string' ? net.connect(address) : net.connect(address, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise((resolve) => socket.once('connect', resolve));
    const payload = Buffer.alloc(150, 'x');
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    let done = 0;
    await new Promise<void>((resolve) => {
      socket.on('data', () => (++done >= ROUND_TRIPS ? resolve() : void socket.write(payload)));
      socket.write(payload);
    });
    const cpu = process.cpuUsage(cpu0);
    const wallUs = ((performance.now() - wall0) * 1000) / ROUND_TRIPS;
    console.log(
      `${kind.padEnd(4)} round trip: client CPU ${((cpu.user + cpu.system) / ROUND_TRIPS).toFixed(1)} µs ` +
        `(system ${(cpu.system / ROUND_TRIPS).toFixed(1)} µs), wall ${wallUs.toFixed(1)} µs`,
    );
    socket.destroy();
    echo.kill();
  }
  rmSync(SOCKET_PATH, { force: true });
}
