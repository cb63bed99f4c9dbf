// The baseline: a minimal Socket.IO 4 server with @socket.io/redis-adapter. Every client joins one
// room; every `message` is broadcast to the room (the sender included), across processes through
// Redis. No auth, no storage: the least a chat fan-out can do. Env: PORT, REDIS_URL, REDIS_PREFIX.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const port = Number(process.env.PORT);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const pub = new Redis(redisUrl);
const sub = pub.duplicate();

const http = createServer((req, res) => {
  res.writeHead(req.url === '/readyz' ? 200 : 404).end();
});
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  adapter: createAdapter(pub, sub, { key: `${process.env.REDIS_PREFIX ?? 'bench-sio:'}socket.io` }),
});
io.on('connection', (socket) => {
  void socket.join('group');
  socket.on('message', (content: unknown) => {
    io.to('group').emit('message', content);
  });
});
http.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  void io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
});
