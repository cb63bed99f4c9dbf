/**
 * Who is owed an "offline" notice, cluster-wide. A user's private-chat peers are told they went
 * offline only once they have stayed away `graceMs`: a device that drops and comes back within
 * it (a network switch, a gateway restarting, dying or being deployed) is announced to nobody,
 * neither gone nor back, as Matrix and Slack do. Without it a gateway restart sends every peer of
 * its thousands of users an "offline" and then an "online" notice, seconds apart.
 *
 * Pending notices live in the backend, so any gateway tells them once due, also when the one that
 * saw the user leave has died meanwhile. A backend that loses its data (Redis restarted without
 * persistence) loses the pending notices with it: those peers are not told, as nobody tells
 * "left" for a Redis restart (see Presence).
 */
export interface OfflineGrace {
  /** The user's last user-level connection anywhere is gone: their offline notice is due after the grace. */
  wentOffline(userId: string): Promise<void>;
  /**
   * The user's first user-level connection anywhere opened. `tellPeers` is false when their
   * offline notice was still pending: it is cancelled, and peers who were never told they left
   * need not be told they are back.
   */
  cameOnline(userId: string): Promise<{ tellPeers: boolean }>;
  /**
   * Users whose grace ran out, at most `max`, each handed to one caller cluster-wide. The caller
   * tells their peers after checking they are still offline (one back in the same instant was
   * just told online, or is about to be).
   */
  takeDue(max: number): Promise<string[]>;
}
