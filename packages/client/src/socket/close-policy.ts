import { CloseCode, needsNewLogin, shouldReconnect } from '@im/protocol';
import { backoffDelay, type BackoffOptions } from './backoff.ts';

/** After 1008 (kept flooding) the gateway wants us back later: never sooner than this. */
const POLICY_RETRY_MS = 5_000;
/** A draining gateway's crowd comes back within this, spread out. */
const RESTART_SPREAD_MS = 250;

/** What a close code means for the client, by @im/protocol's close codes. */
export type CloseAction =
  /** 4001 (logged out), 4002 (expired): the token is dead; reconnecting with it is useless. */
  | { kind: 'login' }
  /** Anything else: come back after `delayMs`; `counts` says whether the backoff grows. */
  | { kind: 'reconnect'; delayMs: number; counts: boolean };

/**
 * 1012 (a gateway draining for a deploy) comes back at once, to another gateway; 1008 (flooding)
 * and the codes `shouldReconnect` says not to hurry back after wait at least 5 s; the rest
 * (1006 lost, 4003 shed, 1001, …) back off from `attempt`.
 */
export function closeAction(code: number, attempt: number, backoff: BackoffOptions, random: () => number): CloseAction {
  if (needsNewLogin(code)) return { kind: 'login' };
  if (code === CloseCode.ServiceRestart) return { kind: 'reconnect', delayMs: Math.round(random() * RESTART_SPREAD_MS), counts: false };
  let delayMs = backoffDelay(attempt, backoff, random);
  if (code === CloseCode.PolicyViolation || !shouldReconnect(code)) delayMs = Math.max(delayMs, POLICY_RETRY_MS);
  return { kind: 'reconnect', delayMs, counts: true };
}
