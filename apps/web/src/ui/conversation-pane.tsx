import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { t } from '../i18n/i18n.ts';
import { im } from '../state/session.ts';
import type { ChatStore, ConversationState } from '../state/chat-store.ts';
import type { ChatTransport } from '../transport/transport.ts';
import { Composer } from './composer.tsx';
import { MessageItem, PendingMessageItem } from './message-item.tsx';

interface PaneProps {
  store: ChatStore;
  transport: ChatTransport;
  onBack: () => void;
}

export function ConversationPane({ store, transport, onBack }: PaneProps) {
  const state = store.active.value;
  if (!state) return <main class="pane" />;
  const title = state.kind === 'group' ? t('chat.group') : state.peer!.user_name;
  const subtitle =
    state.kind === 'group'
      ? t('chat.onlineCount', { n: Math.max(store.onlineCount.value, store.online.value.size) })
      : store.online.value.has(state.peer!.user_id)
        ? t('chat.online')
        : '';
  return (
    <main class="pane" aria-label={state.kind === 'group' ? t('chat.group') : t('chat.privateWith', { name: title })} data-conversation={state.id}>
      <header class="pane-header">
        <button type="button" class="back" aria-label={t('chat.back')} onClick={onBack}>
          ‹
        </button>
        {state.peer && <img class="avatar" src={im.assetUrl(state.peer.avatar)} alt="" width={32} height={32} />}
        <div>
          <h2 class="pane-title">{title}</h2>
          {subtitle && <p class="pane-subtitle">{subtitle}</p>}
        </div>
      </header>
      <MessageList key={state.id} state={state} transport={transport} />
      <Composer key={`composer-${state.id}`} state={state} transport={transport} />
    </main>
  );
}

/**
 * The messages, oldest at the top. Scrolling to the top loads older ones (a button does the same
 * for keyboards) without moving what is on screen; new ones scroll into view when the reader is
 * at the bottom already.
 */
function MessageList({ state, transport }: { state: ConversationState; transport: ChatTransport }) {
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const previous = useRef({ first: undefined as number | undefined, height: 0 });
  const me = im.user!;
  const messages = state.messages.value;
  const pending = state.pending.value;
  const uploads = state.uploads.value;

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const first = messages[0]?.id;
    if (previous.current.first !== undefined && first !== undefined && first < previous.current.first) {
      // Older messages went in above: keep the reader's place.
      el.scrollTop += el.scrollHeight - previous.current.height;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    previous.current = { first, height: el.scrollHeight };
  }, [messages, pending, uploads]);

  useEffect(() => {
    const target = sentinel.current;
    if (!target || !scroller.current) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && state.loaded.value) void transport.loadOlder(state.id);
      },
      { root: scroller.current, rootMargin: '200px 0px 0px 0px' },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [state, transport]);

  const onScroll = () => {
    const el = scroller.current!;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };

  return (
    <div class="messages" ref={scroller} onScroll={onScroll}>
      <div ref={sentinel} class="history-edge">
        {state.hasOlder.value ? (
          <button type="button" class="link" disabled={state.loadingOlder.value} onClick={() => void transport.loadOlder(state.id)}>
            {state.loadingOlder.value ? t('chat.loadingOlder') : t('chat.loadOlder')}
          </button>
        ) : (
          state.loaded.value && <span class="muted">{messages.length ? t('chat.beginning') : t('chat.empty')}</span>
        )}
      </div>
      <div role="log" aria-live="polite" aria-label={t('chat.messages')}>
        <ol class="message-list">
        {messages.map((message, i) => (
          <MessageItem key={message.id} message={message} own={message.user_id === me.user_id} continued={messages[i - 1]?.user_id === message.user_id} />
        ))}
        {pending.map((item) => (
          <PendingMessageItem key={item.clientMsgId} item={item} onRetry={() => transport.retry(state.id, item.clientMsgId)} />
        ))}
        </ol>
      </div>
      {uploads.map((upload) => (
        <div class="upload" key={upload.id}>
          <span>{upload.error ? t('chat.uploadFailed', { reason: upload.error }) : t('chat.uploading', { name: upload.name })}</span>
          {!upload.error && (
            <progress max={upload.total || 1} value={upload.loaded} aria-label={t('chat.uploading', { name: upload.name })}>
              {Math.round((upload.loaded / (upload.total || 1)) * 100)}%
            </progress>
          )}
        </div>
      ))}
    </div>
  );
}
