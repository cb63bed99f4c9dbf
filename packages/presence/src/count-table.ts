/** Connection counts by room and user. Zero counts and empty rooms are dropped at once. */
export class CountTable {
  private readonly rooms = new Map<string, Map<string, number>>();

  /** Adds one and returns the new count. */
  increment(room: string, userId: string): number {
    let users = this.rooms.get(room);
    if (!users) this.rooms.set(room, (users = new Map()));
    const count = (users.get(userId) ?? 0) + 1;
    users.set(userId, count);
    return count;
  }

  /** Removes one and returns the new count, or undefined when there was nothing to remove. */
  decrement(room: string, userId: string): number | undefined {
    const users = this.rooms.get(room);
    const count = users?.get(userId);
    if (!users || count === undefined) return undefined;
    if (count > 1) users.set(userId, count - 1);
    else users.delete(userId);
    if (users.size === 0) this.rooms.delete(room);
    return count - 1;
  }

  /** Subtracts `count` at once (a whole gateway leaving); returns the new count. */
  subtract(room: string, userId: string, count: number): number {
    const users = this.rooms.get(room);
    const left = (users?.get(userId) ?? 0) - count;
    if (!users) return 0;
    if (left > 0) users.set(userId, left);
    else users.delete(userId);
    if (users.size === 0) this.rooms.delete(room);
    return Math.max(0, left);
  }

  hasRoom(room: string): boolean {
    return this.rooms.has(room);
  }

  has(room: string, userId: string): boolean {
    return this.rooms.get(room)?.has(userId) ?? false;
  }

  /** Distinct users in the room. */
  distinctUsers(room: string): number {
    return this.rooms.get(room)?.size ?? 0;
  }

  roomNames(): string[] {
    return [...this.rooms.keys()];
  }

  /** The room's users and counts, as [userId, count] pairs. */
  usersOf(room: string): Array<[string, number]> {
    return [...(this.rooms.get(room) ?? [])];
  }

  clear(): void {
    this.rooms.clear();
  }
}
