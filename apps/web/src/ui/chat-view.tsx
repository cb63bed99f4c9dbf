import { useEffect } from 'preact/hooks';
import { t } from '../i18n/i18n.ts';
import { im } from '../state/session.ts';
import type { ChatStore, Person } from '../state/chat-store.ts';
import type { ChatTransport } from '../transport/transport.ts';
import { ConnectionBanner } from './connection-banner.tsx';
import { ConversationPane } from './conversation-pane.tsx';
import { LanguageSwitch } from './language-switch.tsx';
import { Sidebar } from './sidebar.tsx';

/**
 * Closes the sockets first: the logout closes them on the server too (4001), and that must not
 * read as "your session ended". Signed out here even when the server cannot be reached.
 */
function signOut(transport: ChatTransport): void {
  transport.stop();
  im.logout().catch(() => {});
}

/**
 * The signed-in screen: conversations and people on the left, the open conversation on the
 * right. On a phone-sized screen one of the two fills it (`data-pane`), with a back button.
 */
export function ChatView({ store, transport }: { store: ChatStore; transport: ChatTransport }) {
  const me = im.user!;
  // Messages that arrive while the page is hidden stay unread until it is seen.
  useEffect(() => {
    const onVisibility = () => (store.visible.value = document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', onVisibility);
    return () => document.removeEventListener('visibilitychange', onVisibility);
  }, [store]);

  const open = (id: string) => void transport.open(id);
  const openPrivate = (peer: Person) => void transport.openPrivate(peer);

  return (
    <div class="chat" data-pane={store.pane.value} data-protocol={store.part2.value ? 'part2' : 'part1'}>
      <header class="topbar">
        <h1 class="brand">{t('app.title')}</h1>
        <ConnectionBanner connection={store.connection.value} onRetry={() => transport.reconnectNow()} />
        <div class="me">
          <img class="avatar small" src={im.assetUrl(me.avatar)} alt="" width={24} height={24} />
          <span class="me-name">{me.user_name}</span>
        </div>
        <LanguageSwitch />
        <button type="button" class="link" onClick={() => signOut(transport)}>
          {t('chat.logout')}
        </button>
      </header>
      <Sidebar store={store} transport={transport} onOpen={open} onPrivate={openPrivate} />
      <ConversationPane store={store} transport={transport} onBack={() => (store.pane.value = 'list')} />
    </div>
  );
}
