import { ImClient } from '@im/client';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '@im/testing';
import { freePort, startProcess, type RunningProcess } from './cluster-process.ts';

export interface ClusterOptions {
  gateways?: number;
  env?: NodeJS.ProcessEnv;
}

export interface TestCluster {
  apiUrl: string;
  gatewayUrls: string[];
  database: TestDatabase;
  prefix: string;
  env: NodeJS.ProcessEnv;
  api: RunningProcess;
  gateways: RunningProcess[];
  /** Starts gateway `index` again (after a kill) on the same port. */
  restartGateway(index: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The API and N gateways as real processes on a fresh database and Redis prefix. Email
 * verification is off (one-step login) and presence leases (and the grace of peers' offline notices) are short so crash tests run fast.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const database = await createTestDatabase();
  const prefix = uniquePrefix('cluster');
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: database.url,
    REDIS_PREFIX: prefix,
    EMAIL_VERIFICATION: 'false',
    LOG_LEVEL: 'warn',
    PRESENCE_LEASE_MS: '1500',
    PRESENCE_HEARTBEAT_MS: '500',
    PEER_OFFLINE_GRACE_MS: '2000',
    ALLOWED_ORIGINS: 'http://allowed.test',
    ...options.env,
  };
  const apiPort = await freePort();
  const api = startProcess('apps/api/src/index.ts', { ...env, PORT: String(apiPort), API_PORT: String(apiPort) });
  const ports = await Promise.all(Array.from({ length: options.gateways ?? 3 }, () => freePort()));
  const startGateway = (i: number) =>
    startProcess('apps/gateway/src/index.ts', { ...env, GATEWAY_PORT: String(ports[i]), GATEWAY_ID: `test-gw-${i}` });
  const gateways = ports.map((_, i) => startGateway(i));
  const stopAll = async () => {
    await Promise.all([api.stop(), ...gateways.map((g) => g.stop())]);
    await database.drop();
  };
  try {
    await Promise.all([
      waitReady(`http://127.0.0.1:${apiPort}`, api),
      ...gateways.map((g, i) => waitReady(`http://127.0.0.1:${ports[i]}`, g)),
    ]);
  } catch (err) {
    // The test's `after` never gets a cluster to stop: stop what was started here, or it outlives the run.
    await stopAll().catch(() => {});
    throw err;
  }

  return {
    apiUrl: `http://127.0.0.1:${apiPort}`,
    gatewayUrls: ports.map((port) => `http://127.0.0.1:${port}`),
    database,
    prefix,
    env,
    api,
    gateways,
    async restartGateway(i) {
      gateways[i] = startGateway(i);
      await waitReady(`http://127.0.0.1:${ports[i]}`, gateways[i]!);
    },
    stop: stopAll,
  };
}

/** Polls `/readyz` until 200; fails early with the process's output if it exits. */
export async function waitReady(base: string, process: RunningProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void process.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`process exited before ready:\n${process.output.slice(-20).join('\n')}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${base} not ready within ${timeoutMs} ms:\n${process.output.slice(-20).join('\n')}`);
}

let counter = 0;

/** Registers a user through the API and logs in with the SDK (verification is off in test clusters). */
export async function newUser(cluster: TestCluster, label = 'u') {
  counter += 1;
  const tag = `${label}${counter}${Math.random().toString(36).slice(2, 7)}`;
  return signUpWith(new ImClient({ baseUrl: cluster.apiUrl }), tag);
}

/** Registers `tag` and signs in (one step: verification off); the token a client would hold. */
export async function signUpWith(im: ImClient, tag: string) {
  const account = { email: `${tag}@example.com`, username: tag, password: `pw-${tag}-long` };
  const registered = await im.register(account);
  const login = await im.login({ email: account.email, password: account.password });
  if (login.status !== 'signed-in') throw new Error('login failed: the cluster asked for a code (EMAIL_VERIFICATION should be false)');
  return { ...account, userId: registered.user_id, token: login.session.token };
}
