/**
 * A user whose presence in a room changed outside of a `connect`/`disconnect` call, with the
 * number of distinct users online in the room right after the change.
 */
export interface PresenceChange {
  room: string;
  userId: string;
  onlineCount: number;
}

/** A change found while this gateway repaired or re-asserted its own entries. */
export interface PresenceResync extends PresenceChange {
  /** true: the user is online again (broadcast "joined"); false: gone (broadcast "left"). */
  online: boolean;
}

/** A user whose user-level presence changed outside of `connectUser`/`disconnectUser`. */
export interface UserPresenceChange {
  userId: string;
  /** true: the user has a connection somewhere again; false: none is left anywhere. */
  online: boolean;
}

/**
 * Whether users have any user-level connection (a Part 2 `/api/chat` socket) on any gateway.
 * Processes that only read it (the API's inbox) use this part alone.
 */
export interface OnlineUsers {
  /** The subset of `userIds` online anywhere in the cluster. Answers within its deadline or rejects. */
  onlineUsers(userIds: readonly string[]): Promise<Set<string>>;
}

/**
 * Who is online, cluster-wide. One instance per gateway process; all instances sharing a backend
 * agree on the answers.
 *
 * A room is any non-empty string without `{` or `}` and not starting with `~` (e.g. `group`,
 * `p:<a>:<b>`). A user may hold several connections in a room, on several gateways; the user is
 * online in the room while at least one of them is open anywhere. Counts are of distinct users,
 * not connections. User-level connections (`connectUser`) are counted apart from every room.
 *
 * Crash safety: every gateway holds a lease it renews every `heartbeatMs`. When a gateway dies
 * without `stop()` (kill -9, power loss, a pause longer than its lease), a surviving gateway
 * reaps its entries once the lease runs out and reports, through `onReaped`, each user whose last
 * connection was on it. With the defaults (10 s lease, 3 s heartbeat) that takes at most 13 s.
 *
 * What callers broadcast, and where the flags come from:
 * - "joined": `connect()` returned `firstConnection`, or `onResynced` with `online: true`.
 * - "left": `disconnect()` returned `lastConnection`, `onReaped`, the list `stop()` returns, or
 *   `onResynced` with `online: false`.
 *
 * Each cluster-wide transition is reported once, by one gateway, except around a lost backend
 * (see `onResynced`), where a client may get "joined" for a user it already shows online. Clients
 * should apply presence frames as set operations, which makes a repeat harmless.
 */
export interface Presence extends OnlineUsers {
  /**
   * Registers one more connection of `userId` in `room` on this gateway.
   * `firstConnection` is true when the user had no connection in the room anywhere in the
   * cluster before, i.e. the caller should broadcast "joined". Exactly one of several racing
   * first connections gets true, wherever they run.
   * Rejects before `start()` and after `stop()`. If it rejects otherwise, the connection is not
   * registered (a half-applied change is repaired by the next heartbeat).
   */
  connect(room: string, userId: string): Promise<{ firstConnection: boolean; onlineCount: number }>;

  /**
   * Drops one connection of `userId` in `room` on this gateway. `lastConnection` is true when it
   * was the user's last in the room cluster-wide: broadcast "left". Disconnecting a connection
   * this gateway does not hold (or after `stop()`) changes nothing and returns
   * `lastConnection: false`. If it rejects, the connection is forgotten anyway and the next
   * heartbeat removes it from the backend, reporting the user through `onResynced` if that was
   * their last connection.
   */
  disconnect(room: string, userId: string): Promise<{ lastConnection: boolean; onlineCount: number }>;

  /**
   * Registers one more user-level connection of `userId` on this gateway: a socket that carries
   * all of the user's conversations (Part 2), counted apart from any room. `firstConnection` is
   * true when the user had none anywhere before (tell their peers "online"). Same guarantees as
   * `connect`: crash-safe through the lease, exactly one of racing first connections gets true.
   */
  connectUser(userId: string): Promise<{ firstConnection: boolean }>;

  /**
   * Drops one user-level connection of `userId` on this gateway; `lastConnection` is true when
   * it was their last anywhere (tell their peers "offline"). As `disconnect` otherwise.
   */
  disconnectUser(userId: string): Promise<{ lastConnection: boolean }>;

  /**
   * Called once per user whose user-level presence changed outside `connectUser` and
   * `disconnectUser`: reaped with a dead gateway (`online: false`, on the reaping gateway),
   * re-asserted or repaired (as `onResynced`), and, during `stop()` before it resolves, each user
   * whose last user-level connection was on this gateway (`online: false`). Room listeners never
   * see user-level changes, nor `stop()`'s list. Returns a function that unregisters it.
   */
  onUserPresence(listener: (event: UserPresenceChange) => void): () => void;

  /** Distinct users with at least one connection in `room`, cluster-wide. */
  onlineCount(room: string): Promise<number>;

  /** Whether `userId` has at least one connection in `room`, cluster-wide. */
  isOnline(room: string, userId: string): Promise<boolean>;

  /**
   * Called on the gateway that reaped a dead gateway, once per user whose last connection in a
   * room was on the dead gateway, so it can broadcast "left". Users still connected elsewhere
   * are not reported. Returns a function that unregisters the listener.
   */
  onReaped(listener: (event: PresenceChange) => void): () => void;

  /**
   * Called when this gateway finds the backend disagreeing with its own connections and puts
   * them back, once per user whose online state changed by that:
   * - the backend lost everything (Redis restarted without persistence), or this gateway was
   *   paused past its lease and reaped (others already broadcast "left" for its users): within
   *   one heartbeat the gateway re-asserts all its connections and reports `online: true` for
   *   each user that is back. Users whose only connections were on gateways that have not yet
   *   re-asserted look offline meanwhile, and nobody broadcasts "left" for a Redis restart.
   * - a `connect`/`disconnect` failed half-way: the next heartbeat repairs the room and reports
   *   whatever changed, e.g. `online: false` for a user whose failed disconnect was their last.
   * Returns a function that unregisters the listener.
   */
  onResynced(listener: (event: PresenceResync) => void): () => void;

  /**
   * Registers this gateway's lease and starts the heartbeat, which renews the lease, reaps dead
   * gateways and repairs this gateway's own entries. Call once, before `connect`.
   */
  start(): Promise<void>;

  /**
   * Graceful shutdown: stops the heartbeat, removes all of this gateway's connections and its
   * lease, and returns the users whose last connection in a room was here (broadcast "left"
   * for them before closing the bus). Safe to call twice; the second call returns [].
   */
  stop(): Promise<PresenceChange[]>;
}
