import { listOption, numberOption, type Scenario } from './context.ts';
import { fanoutSummary, roomFanout } from './room-fanout.ts';

/** 10,000 clients in one room over 2 gateways, one message a second: the latency of a huge fan-out. */
export const bigRoom: Scenario = {
  name: 'big-room',
  about: '10,000 clients in the group over 2 gateways, 1 msg/s for 30 s: p99 of a 10k-wide fan-out',
  summarize: (steps) => fanoutSummary(steps, 75),
  run: (ctx) =>
    roomFanout(ctx, {
      clients: numberOption(ctx, 'clients', ctx.quick ? 100 : 10_000),
      senders: numberOption(ctx, 'senders', 1),
      rates: listOption(ctx, 'rates', [1]),
      stepSeconds: numberOption(ctx, 'step-seconds', ctx.quick ? 4 : 30),
      warmupSeconds: numberOption(ctx, 'warmup-seconds', ctx.quick ? 0 : 2),
      payloadBytes: numberOption(ctx, 'payload-bytes', 100),
      workers: ctx.workers ?? 4,
      p99BarMs: 75,
      connectTimeoutMs: 900_000,
      settleMaxMs: 900_000,
    }),
};
