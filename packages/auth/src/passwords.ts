import { availableParallelism } from 'node:os';
import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';

/**
 * argon2id at OWASP's minimum (19 MiB, t=2, p=1). `@node-rs/argon2` computes on libuv's thread
 * pool, so a login never blocks the event loop, and picks the CPU's vector instructions at run
 * time (AVX2 where there is AVX2): about half the CPU of the `argon2` package's SSE2 build for the
 * same parameters and the same PHC strings, which is most of what a login costs.
 */
const HASH_OPTIONS: Options = {
  // Algorithm.Argon2id; a const enum, which isolated modules cannot read from a declaration file.
  algorithm: 2 satisfies Algorithm.Argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

/**
 * argon2 jobs allowed on libuv's thread pool at once: one per core, and never all of the pool's
 * 4 threads. More at once would not finish sooner on the same cores, and a pool filled with 19 MiB
 * hashes makes every short job queued behind them wait too: the WebCrypto HMAC that signs the
 * token of a login's step 2, file reads, zlib. The rest wait here, in arrival order.
 */
const MAX_PARALLEL = Math.max(1, Math.min(availableParallelism(), 3));
let running = 0;
const waiting: Array<() => void> = [];

async function limited<T>(job: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  else running += 1;
  try {
    return await job();
  } finally {
    // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

export function hashPassword(password: string): Promise<string> {
  return limited(() => hash(password, HASH_OPTIONS));
}

/** Checks `password` against a PHC string, using the parameters that string names. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await limited(() => verify(phc, password));
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same time as a real check when the account does not exist, so the answer time does
 * not tell an attacker which emails are registered.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword('dummy password for timing equalisation');
  await verifyPassword(await dummyHash, password);
  return false;
}
