import { roomChannel, userChannel } from '@im/bus';
import type { Logger } from '@im/logger';
import type { Presence } from '@im/presence';
import { isRoomConversation, parseConversation, type FileUrlSigner } from '@im/protocol';
import type { Connection } from '../connections/connection.ts';
import { prepareTextFrame } from '../connections/prepared-frame.ts';
import type { ConversationFeed } from '../fanout/conversation-feed.ts';
import type { DeviceHooks } from '../fanout/device-hooks.ts';
import type { Feeds } from '../fanout/feeds.ts';
import { membershipChange } from './membership-change.ts';
import type { RoomMemberships } from './room-memberships.ts';
import { Subscription } from './subscription.ts';

export interface DevicesOptions {
  feeds: Feeds;
  memberships: Pick<RoomMemberships, 'roomsOf'>;
  presence: Pick<Presence, 'connectUser' | 'disconnectUser'>;
  sign: FileUrlSigner;
  logger: Logger;
  /** How long a new socket's conversations wait for its first resume frame (see `enter`). */
  holdMs: number;
  /** How long they wait after a resume that failed as a whole, for the client to send it again. */
  failedResumeHoldMs: number;
  /** A user's first `/api/chat` socket anywhere opened (true) or their last one closed (false). */
  onUserPresence?(connection: Connection, online: boolean): void;
}

interface DeviceState {
  subscriptions: Map<string, Subscription>;
  /** Conversations whose catch-up failed: not delivered (not even by a private feed made anew) until resumed again. */
  suspended?: Set<string>;
  holding: boolean;
  holdTimer?: NodeJS.Timeout;
}

/**
 * The `/api/chat` sockets of this gateway (one per device) and the conversations each one is in:
 * every room of its user (from MySQL when it opens, then as room events say), every private chat
 * with traffic here (a feed of one is made by its first message, see Feeds), and the group once
 * the client names it. Each conversation of a socket is a Subscription in that conversation's
 * feed, so a room's channel is subscribed once per gateway however many sockets are in it.
 */
export class Devices implements DeviceHooks {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly states = new Map<Connection, DeviceState>();

  constructor(private readonly options: DevicesOptions) {}

  follows(userId: string): boolean {
    return this.byUser.has(userId);
  }

  /** The socket's conversations (tests, resume). */
  subscriptionsOf(connection: Connection): ReadonlyMap<string, Subscription> {
    return this.states.get(connection)?.subscriptions ?? new Map();
  }

  /**
   * A new socket: its user's channel, its rooms, the private feeds already here. Until its first
   * resume frame (at most `holdMs`) live frames queue, so a resume starts exactly where the client
   * left off and nothing arrives twice or out of order; a client that never resumes gets them then.
   */
  async enter(connection: Connection): Promise<void> {
    const { feeds, memberships, presence } = this.options;
    const state: DeviceState = { subscriptions: new Map(), holding: true };
    this.states.set(connection, state);
    const sockets = this.byUser.get(connection.userId) ?? new Set();
    this.byUser.set(connection.userId, sockets.add(connection));
    await feeds.hold(userChannel(connection.userId));
    for (const conversation of feeds.privateFeedsOf(connection.userId)) feeds.attach(this.subscription(connection, conversation), conversation);
    const rooms = await memberships.roomsOf(connection.userId);
    await Promise.all(rooms.map((room) => this.join(this.subscription(connection, room))));
    const { firstConnection } = await presence.connectUser(connection.userId);
    if (firstConnection) this.options.onUserPresence?.(connection, true);
    // Last, so the socket's frames (queued until now) are handled before the hold can end.
    this.holdFor(connection, this.options.holdMs);
  }

  /**
   * A resume frame is being handled: the hold lasts until it releases the socket, however long
   * its MySQL checks take (in a reconnect storm, longer than the hold). Were the conversations
   * released meanwhile, their live frames would jump the client's last ids past what it missed.
   */
  resumeStarted(connection: Connection): void {
    const state = this.states.get(connection);
    if (state?.holding) clearTimeout(state.holdTimer);
  }

  /** The resume failed as a whole (the client sends it again, after its backoff): the hold goes on meanwhile. */
  resumeFailed(connection: Connection): void {
    this.holdFor(connection, this.options.failedResumeHoldMs);
  }

  private holdFor(connection: Connection, ms: number): void {
    const state = this.states.get(connection);
    if (!state?.holding) return;
    clearTimeout(state.holdTimer);
    state.holdTimer = setTimeout(() => this.release(connection, new Set()), ms);
    state.holdTimer.unref();
  }

  async leave(connection: Connection): Promise<void> {
    const state = this.states.get(connection);
    if (!state) return;
    this.states.delete(connection);
    clearTimeout(state.holdTimer);
    for (const [conversation, subscription] of state.subscriptions) this.options.feeds.leave(subscription, conversation);
    const sockets = this.byUser.get(connection.userId);
    sockets?.delete(connection);
    if (sockets?.size === 0) this.byUser.delete(connection.userId);
    await this.options.feeds.release(userChannel(connection.userId));
    const { lastConnection } = await this.options.presence.disconnectUser(connection.userId);
    if (lastConnection) this.options.onUserPresence?.(connection, false);
  }

  /** The socket's subscription to a conversation, made if new (queueing while the socket holds). */
  subscription(connection: Connection, conversation: string): Subscription {
    const state = this.states.get(connection);
    let subscription = state?.subscriptions.get(conversation);
    if (subscription) return subscription;
    // The feed's copy of the name, when there is one: each socket's frames bring their own copy,
    // and a socket in 20 conversations would keep 20 more strings.
    const name = this.options.feeds.feed(conversation)?.conversation ?? conversation;
    subscription = new Subscription(connection, name, this.options.sign);
    if (!state || state.holding) subscription.startCatchUp();
    state?.subscriptions.set(name, subscription);
    return subscription;
  }

  /** Puts the subscription in its conversation's feed (subscribing the channel if it is new here). */
  async join(subscription: Subscription): Promise<void> {
    const { connection, room: conversation } = subscription;
    const channel = parseConversation(conversation)?.kind === 'private' ? userChannel(connection.userId) : roomChannel(conversation);
    await this.options.feeds.join(subscription, conversation, [channel]);
    // Closed, or removed from the room, while the channel was being subscribed.
    if (this.states.get(connection)?.subscriptions.get(conversation) !== subscription) this.options.feeds.leave(subscription, conversation);
  }

  /** The subscription a resume asks for: a suspended conversation is the socket's again. */
  resumed(connection: Connection, conversation: string): Subscription {
    this.states.get(connection)?.suspended?.delete(conversation);
    return this.subscription(connection, conversation);
  }

  /** Stops delivering a conversation to the socket until the client resumes it (its catch-up failed). */
  suspend(connection: Connection, conversation: string): void {
    const state = this.states.get(connection);
    if (!state) return;
    (state.suspended ??= new Set()).add(conversation);
    this.drop(connection, conversation);
  }

  /** Stops delivering a conversation to the socket, at once. */
  drop(connection: Connection, conversation: string): void {
    const state = this.states.get(connection);
    const subscription = state?.subscriptions.get(conversation);
    if (!subscription) return;
    state!.subscriptions.delete(conversation);
    this.options.feeds.leave(subscription, conversation);
  }

  /** Ends the hold: every queued conversation goes live, except those a resume is catching up. */
  release(connection: Connection, resuming: ReadonlySet<string>): void {
    const state = this.states.get(connection);
    if (!state?.holding) return;
    state.holding = false;
    clearTimeout(state.holdTimer);
    // Not kept for the socket's life: a cleared timer is still an object (~120 bytes per socket).
    state.holdTimer = undefined;
    for (const [conversation, subscription] of state.subscriptions) {
      if (!resuming.has(conversation) && subscription.isCatchingUp) subscription.finishCatchUp();
    }
  }

  feedCreated(conversation: string, feed: ConversationFeed): void {
    const parsed = parseConversation(conversation);
    if (parsed?.kind !== 'private') return;
    for (const userId of parsed.userIds) {
      for (const connection of this.byUser.get(userId) ?? []) {
        if (!this.states.get(connection)?.suspended?.has(conversation)) feed.recipients.add(this.subscription(connection, conversation));
      }
    }
  }

  /**
   * A frame for one user on their channel: a room event about them (applied first: a removed
   * member's sockets leave the room before they get its last frame), a typing notice or a receipt.
   */
  userTransient(userId: string, conversation: string, frame: Buffer): void {
    const sockets = this.byUser.get(userId);
    if (!sockets) return;
    const change = isRoomConversation(conversation) ? membershipChange(frame, userId) : undefined;
    for (const connection of sockets) {
      if (change === 'joined') void this.join(this.subscription(connection, conversation)).catch((err: unknown) => this.joinFailed(err, conversation));
      if (change === 'left') this.drop(connection, conversation);
    }
    const prepared = prepareTextFrame(frame);
    for (const connection of sockets) connection.deliverTransient(prepared);
  }

  private joinFailed(err: unknown, conversation: string): void {
    this.options.logger.error({ err: { message: (err as Error)?.message }, conversation }, 'joining a room after its event failed');
  }
}
