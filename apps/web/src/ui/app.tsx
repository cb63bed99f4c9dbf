import { useEffect, useMemo } from 'preact/hooks';
import { session } from '../state/session.ts';
import { im } from '../state/session.ts';
import { createChatStore } from '../state/chat-store.ts';
import { createTransport } from '../transport/index.ts';
import { releaseMedia } from '../transport/media.ts';
import { t } from '../i18n/i18n.ts';
import { AuthView } from './auth-view.tsx';
import { ChatView } from './chat-view.tsx';

/** Signed out: the sign-in screens. Signed in: the chat, with a transport for this session. */
export function App() {
  const current = session.value;
  useEffect(() => {
    document.title = t('app.title');
  });
  return current ? <SignedIn key={current.token} /> : <AuthView />;
}

function SignedIn() {
  const store = useMemo(() => createChatStore(im.user!.user_id), []);
  const transport = useMemo(() => createTransport(im, store), [store]);
  useEffect(() => {
    // Every failure inside is shown in the store (the connection banner) or ends the session.
    void transport.start().catch(() => {});
    return () => {
      transport.stop();
      releaseMedia();
    };
  }, [transport]);
  return <ChatView store={store} transport={transport} />;
}
