import { z } from 'zod';
import type { ApiContext } from '../services.ts';

/** `PUT /api/users/notifications`: every field optional, the ones left out keep their value. */
export const notificationSettingsInput = z.strictObject({
  digest: z.boolean().optional().meta({ description: 'Mail a digest of the messages received while offline' }),
  language: z.enum(['zh', 'en']).optional().meta({ description: 'Language of the digest mail' }),
});

export interface NotificationSettingsView {
  digest: boolean;
  language: 'zh' | 'en';
  /** At most one digest mail per this many seconds (notifications.digest.interval_seconds). */
  digest_interval_seconds: number;
}

/** The caller's settings; a user who never set any has the defaults (no digest, Chinese). */
export async function readNotificationSettings(ctx: ApiContext, userId: string): Promise<NotificationSettingsView> {
  const [row] = await ctx.sql.query<Array<{ digest_enabled: number; language: 'zh' | 'en' }>>(
    'SELECT digest_enabled, language FROM notification_settings WHERE user_id = ?',
    [userId],
  );
  return {
    digest: Boolean(row?.digest_enabled ?? false),
    language: row?.language ?? 'zh',
    digest_interval_seconds: ctx.config.notifications.digest.interval_seconds,
  };
}

export async function updateNotificationSettings(
  ctx: ApiContext,
  userId: string,
  input: z.infer<typeof notificationSettingsInput>,
): Promise<NotificationSettingsView> {
  // One statement: a first change inserts the row with the defaults for what was left out.
  await ctx.sql.query(
    `INSERT INTO notification_settings (user_id, digest_enabled, language, updated_at)
     VALUES (?, ?, ?, UTC_TIMESTAMP(3))
     ON DUPLICATE KEY UPDATE digest_enabled = COALESCE(?, digest_enabled), language = COALESCE(?, language), updated_at = UTC_TIMESTAMP(3)`,
    [userId, input.digest ?? false, input.language ?? 'zh', input.digest ?? null, input.language ?? null],
  );
  return readNotificationSettings(ctx, userId);
}
