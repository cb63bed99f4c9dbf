import { revocationChannel, type TokenRevocations } from '@im/auth';
import type { Broker } from '@im/bus';
import { CloseCode } from '@im/protocol';
import type { ConnectionRegistry } from '../connections/connection-registry.ts';

/** The revocations channel: the API publishes it with the prefix, the broker adds ours. */
const REVOCATIONS = revocationChannel('');

/** Logout on any API replica closes that token's sockets here (4001), at once. */
export class RevocationWatch {
  constructor(
    private readonly broker: Broker,
    private readonly revocations: TokenRevocations,
    private readonly registry: ConnectionRegistry,
  ) {}

  start(): Promise<void> {
    return this.broker.subscribe(REVOCATIONS, this.onRevoked);
  }

  /** A logout published while our subscription was down was missed: ask Redis directly. */
  async recheck(): Promise<void> {
    for (const jti of [...this.registry.jtis()]) {
      if (!(await this.revocations.isRevoked(jti).catch(() => false))) continue;
      this.closeToken(jti);
    }
  }

  async stop(): Promise<void> {
    await this.broker.unsubscribe(REVOCATIONS, this.onRevoked).catch(() => {});
  }

  private readonly onRevoked = (payload: Buffer): void => this.closeToken(payload.toString());

  private closeToken(jti: string): void {
    for (const connection of this.registry.withJti(jti)) connection.close(CloseCode.TokenRevoked, 'logged out');
  }
}
