import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { LatencyHistogram } from '../metrics/histogram.ts';
import { startUsageWindow } from '../metrics/proc-stats.ts';
import { countInto } from '../metrics/counter.ts';
import { openLoop } from '../loadgen/open-loop.ts';
import type { StepResult } from '../report/types.ts';
import { BENCH_PASSWORD, createUsers } from '../users.ts';
import { backingProcesses, listOption, numberOption, openCluster, type Scenario } from './context.ts';
import { postJson, requestStep } from './http-step.ts';

/**
 * Registration, then the two-step login (password → emailed code → password + code → token), each
 * at stepped open-loop rates against a cluster with email verification on. The mail worker sends
 * the codes to an SMTP server inside the bench, which hands each code to the waiting login.
 * Latency is per request, from the moment it was due; the wait for the mail is reported apart.
 */
export const login: Scenario = {
  name: 'login',
  about: 'register, then two-step login (code by mail through the worker to an SMTP sink) at stepped rates: per-request p99',
  async run(ctx) {
    const registerRates = listOption(ctx, 'register-rates', ctx.quick ? [5] : [20, 40, 80]);
    const loginRates = listOption(ctx, 'rates', ctx.quick ? [5, 10] : [20, 40, 60, 80, 100]);
    const stepSeconds = numberOption(ctx, 'step-seconds', ctx.quick ? 2 : 10);
    const sink = await startCodeSink();
    const cluster = await openCluster(ctx, { gateways: 1, emailVerification: true, smtpUrl: sink.url });
    const epoch = process.hrtime.bigint();
    const nowMs = () => Number(process.hrtime.bigint() - epoch) / 1e6;
    const watched = () => [...cluster.processes(), ...backingProcesses()];
    const steps: StepResult[] = [];
    const notes: string[] = [];
    try {
      const tag = randomBytes(3).toString('hex');
      let index = 0;
      for (const rate of registerRates) {
        const latency = new LatencyHistogram();
        const statuses: Record<string, number> = {};
        let completed = 0;
        const window = startUsageWindow(watched());
        const loop = await openLoop({
          rate,
          durationMs: stepSeconds * 1000,
          nowMs,
          fire: async (k, due) => {
            const name = `r${index}x${k}${tag}`;
            const { status, json } = await postJson(`${cluster.apiUrl}/api/users/register`, { email: `${name}@bench.test`, username: name, password: BENCH_PASSWORD }).catch(
              (err: Error) => ({ status: 0, json: { code: err.message } }),
            );
            latency.recordMs(nowMs() - due);
            countInto(statuses, json?.code ?? `http${status}`);
            if (json?.code === 0) completed += 1;
          },
        });
        const usage = window.finish();
        await loop.settled;
        steps.push(requestStep({ index, label: `register ${rate}/s`, rate, durationSeconds: stepSeconds, started: loop.started, completed, failed: loop.started - completed, latency, sendLag: loop.sendLag, self: loop.self, window: usage, extra: { kind: 'register', codes: statuses } }));
        ctx.log(`  ours: register ${rate}/s: ${completed}/${loop.started} ok, p99 ${latency.summary().p99} ms`);
        index += 1;
      }

      const needed = loginRates.reduce((a, r) => a + Math.ceil(r * stepSeconds), 0);
      ctx.log(`  ours: creating ${needed} users to log in`);
      const users = await createUsers(cluster.databaseUrl, cluster.config, needed, 'l');
      let next = 0;
      for (const rate of loginRates) {
        const latency = new LatencyHistogram();
        const step1 = new LatencyHistogram();
        const step2 = new LatencyHistogram();
        const mailWait = new LatencyHistogram();
        const flow = new LatencyHistogram();
        const codes: Record<string, number> = {};
        let completed = 0;
        let oneStep = 0;
        const window = startUsageWindow(watched());
        const loop = await openLoop({
          rate,
          durationMs: stepSeconds * 1000,
          nowMs,
          fire: (_k, due) => loginOnce(due).catch((err: Error) => countInto(codes, err.message)),
        });
        async function loginOnce(due: number): Promise<void> {
          const user = users[next++]!;
          const codePromise = sink.codeFor(user.email);
          codePromise.catch(() => {}); // awaited below; a failed step 1 leaves it unanswered
          const first = await postJson(`${cluster.apiUrl}/api/users/login`, { email: user.email, password: BENCH_PASSWORD });
          const t1 = nowMs();
          step1.recordMs(t1 - due);
          latency.recordMs(t1 - due);
          if (first.json?.code !== 0) return countInto(codes, `step1:${first.json?.code ?? first.status}`);
          if (first.json.data?.token) {
            // Verification off on the target (--url): a one-step login.
            oneStep += 1;
            completed += 1;
            flow.recordMs(t1 - due);
            return;
          }
          const code = await codePromise;
          const t2 = nowMs();
          mailWait.recordMs(t2 - t1);
          const second = await postJson(`${cluster.apiUrl}/api/users/login`, { email: user.email, password: BENCH_PASSWORD, code });
          const t3 = nowMs();
          step2.recordMs(t3 - t2);
          latency.recordMs(t3 - t2);
          if (second.json?.code !== 0 || !second.json.data?.token) return countInto(codes, `step2:${second.json?.code ?? second.status}`);
          flow.recordMs(t3 - due);
          completed += 1;
        }
        const usage = window.finish();
        await loop.settled;
        steps.push(
          requestStep({
            index,
            label: `login ${rate}/s`,
            rate,
            durationSeconds: stepSeconds,
            started: loop.started,
            completed,
            failed: loop.started - completed,
            latency,
            sendLag: loop.sendLag,
            self: loop.self,
            window: usage,
            extra: { kind: 'login', step1: step1.summary(), step2: step2.summary(), mailWait: mailWait.summary(), wholeLogin: flow.summary(), oneStep, failures: codes },
          }),
        );
        ctx.log(`  ours: login ${rate}/s: ${completed}/${loop.started} ok, request p99 ${latency.summary().p99} ms, mail wait p50 ${mailWait.summary().p50} ms`);
        index += 1;
      }
      if (steps.some((s) => (s.extra?.oneStep as number) > 0)) notes.push('the target has email verification off: logins were one step');
    } finally {
      await cluster.stop();
      await sink.close();
    }

    const clean = (kind: string) => steps.filter((s) => s.extra?.kind === kind && !s.generator.saturated);
    const ok = (kind: string) => clean(kind).filter((s) => s.errors === 0 && s.latency.p99 < 150);
    // 0: measured, no step met the bar; null: the generator was saturated at every step.
    const best = (kind: string) => (ok(kind).length ? Math.max(...ok(kind).map((s) => s.deliveredRate)) : clean(kind).length ? 0 : null);
    return {
      parameters: { registerRates, loginRates, stepSeconds, gateways: 1, emailVerification: true },
      targets: [
        {
          target: 'ours',
          clients: 0,
          steps,
          summary: {
            loginsPerSecondAtP99Under150ms: best('login'),
            registrationsPerSecondAtP99Under150ms: best('register'),
            failures: steps.reduce((a, s) => a + s.errors, 0),
          },
          peakRssKiB: Object.fromEntries(steps.at(-1)?.processes.filter((p) => p.role === 'server').map((p) => [p.name, p.peakRssKiB]) ?? []),
        },
      ],
      notes,
    };
  },
};

/** An SMTP server that reads each login mail's 6-digit code and hands it to whoever waits for it. */
async function startCodeSink() {
  const waiting = new Map<string, (code: string) => void>();
  const arrived = new Map<string, string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
      simpleParser(stream).then(
        (mail) => {
          const code = /\b(\d{6})\b/.exec(mail.text ?? '')?.[1];
          if (code) {
            for (const address of to) {
              const wake = waiting.get(address);
              if (wake) {
                waiting.delete(address);
                wake(code);
              } else arrived.set(address, code);
            }
          }
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    codeFor(email: string): Promise<string> {
      const address = email.toLowerCase();
      const early = arrived.get(address);
      if (early) {
        arrived.delete(address);
        return Promise.resolve(early);
      }
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(address);
          reject(new Error('no code within 60 s'));
        }, 60_000);
        timer.unref();
        waiting.set(address, (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
