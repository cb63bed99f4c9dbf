import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.ts';
import type { ConnectionView } from '../state/chat-store.ts';

/**
 * The connection as the user should know it: nothing while connected; "connecting" at first;
 * "reconnecting" (with a countdown and a button to skip it) while messages wait to be resent.
 */
export function ConnectionBanner({ connection, onRetry }: { connection: ConnectionView; onRetry: () => void }) {
  const [, tick] = useState(0);
  const retryAt = connection.state === 'reconnecting' ? connection.retryAt : undefined;
  useEffect(() => {
    if (retryAt === undefined) return;
    const timer = setInterval(() => tick((n) => n + 1), 500);
    return () => clearInterval(timer);
  }, [retryAt]);

  if (connection.state === 'open') {
    return <div class="connection" data-state="open" role="status" aria-live="polite" />;
  }
  const seconds = retryAt !== undefined ? Math.ceil((retryAt - Date.now()) / 1000) : 0;
  return (
    <div class={`connection ${connection.state}`} data-state={connection.state} role="status" aria-live="polite">
      <span>
        {connection.state === 'connecting'
          ? t('conn.connecting')
          : seconds > 1
            ? t('conn.reconnectingIn', { s: seconds })
            : t('conn.reconnecting')}
      </span>
      {connection.state === 'reconnecting' && (
        <button type="button" class="link" onClick={onRetry}>
          {t('conn.retryNow')}
        </button>
      )}
    </div>
  );
}
