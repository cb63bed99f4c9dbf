import { listOption, numberOption, type Scenario } from './context.ts';
import { fanoutSummary, roomFanout } from './room-fanout.ts';

/** 1,000 clients in the group over 2 gateways, 100-byte messages, rate stepped 50 → 300 msg/s; with the Socket.IO baseline. */
export const groupFanout: Scenario = {
  name: 'group-fanout',
  about: '1,000 clients in the group over 2 gateways, 100-byte messages, 50→300 msg/s stepped; Socket.IO baseline under the same load',
  summarize: (steps) => fanoutSummary(steps, 100),
  run: (ctx) =>
    roomFanout(ctx, {
      clients: numberOption(ctx, 'clients', ctx.quick ? 40 : 1_000),
      senders: numberOption(ctx, 'senders', ctx.quick ? 10 : 100),
      rates: listOption(ctx, 'rates', ctx.quick ? [10, 20] : [50, 75, 100, 150, 200, 300]),
      stepSeconds: numberOption(ctx, 'step-seconds', ctx.quick ? 2 : 10),
      warmupSeconds: numberOption(ctx, 'warmup-seconds', ctx.quick ? 0.5 : 2),
      payloadBytes: numberOption(ctx, 'payload-bytes', 100),
      workers: ctx.workers ?? 2,
      p99BarMs: 100,
    }),
};
