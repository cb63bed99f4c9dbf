import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.ts';
import { im } from '../state/session.ts';
import type { ChatStore, ConversationState } from '../state/chat-store.ts';
import type { ChatTransport } from '../transport/transport.ts';
import { Composer } from './composer.tsx';
import { MessageItem, PendingMessageItem } from './message-item.tsx';
import { RoomMembersDialog } from './room-dialogs.tsx';
import { titleOf } from './sidebar.tsx';

interface PaneProps {
  store: ChatStore;
  transport: ChatTransport;
  onBack: () => void;
}

export function ConversationPane({ store, transport, onBack }: PaneProps) {
  const [showMembers, setShowMembers] = useState(false);
  const state = store.active.value;
  if (!state) return <main class="pane" />;
  const title = titleOf(state);
  const subtitle =
    state.kind === 'group'
      ? t('chat.onlineCount', { n: Math.max(store.onlineCount.value, store.online.value.size) })
      : state.kind === 'room'
        ? t('room.memberCount', { n: state.room.value?.member_count ?? 0 })
        : store.online.value.has(state.peer!.user_id)
          ? t('chat.online')
          : '';
  const label = state.kind === 'private' ? t('chat.privateWith', { name: title }) : title;
  // Rooms take messages only on /api/chat (Part 2); on a Part 1 server they are read-only.
  const readOnly = state.kind === 'room' && !store.part2.value;
  return (
    <main class="pane" aria-label={label} data-conversation={state.id}>
      <header class="pane-header">
        <button type="button" class="back" aria-label={t('chat.back')} onClick={onBack}>
          ‹
        </button>
        {state.peer && <img class="avatar" src={im.assetUrl(state.peer.avatar)} alt="" width={32} height={32} />}
        <div class="pane-heading">
          <h2 class="pane-title">{title}</h2>
          {subtitle && <p class="pane-subtitle">{subtitle}</p>}
        </div>
        {state.kind === 'room' && (
          <button type="button" class="link" onClick={() => setShowMembers(true)}>
            {t('room.members')}
          </button>
        )}
      </header>
      <MessageList key={state.id} store={store} state={state} transport={transport} />
      <TypingLine state={state} />
      {readOnly ? <p class="notice read-only">{t('room.readOnly')}</p> : <Composer key={`composer-${state.id}`} state={state} transport={transport} />}
      {showMembers && state.kind === 'room' && <RoomMembersDialog store={store} state={state} transport={transport} onClose={() => setShowMembers(false)} />}
    </main>
  );
}

/** "Bob is typing…" under the messages (Part 2 typing frames), for a few seconds after each. */
function TypingLine({ state }: { state: ConversationState }) {
  const names = [...state.typing.value.values()].map((v) => v.username);
  return (
    <p class="typing" aria-live="polite">
      {names.length === 1 ? t('chat.typingOne', { name: names[0]! }) : names.length > 1 ? t('chat.typingMany', { names: names.join(', ') }) : ''}
    </p>
  );
}

/**
 * The messages, oldest at the top. Scrolling to the top loads older ones (a button does the same
 * for keyboards) without moving what is on screen; new ones scroll into view when the reader is
 * at the bottom already.
 */
function MessageList({ store, state, transport }: { store: ChatStore; state: ConversationState; transport: ChatTransport }) {
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

  // On screen: what is shown is read (the read cursor moves; the badge goes).
  const viewed = store.isViewed(state.id);
  useEffect(() => {
    if (viewed && state.loaded.value) transport.markViewed(state.id);
  }, [viewed, messages, state.loaded.value]);

  // Others' read position (Part 2 read frames): "Read" under my newest message they have read.
  const othersRead = state.othersReadId.value;
  const readMarkId = othersRead > 0 ? messages.filter((m) => m.user_id === me.user_id && m.id <= othersRead).at(-1)?.id : undefined;

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
          <MessageItem
            key={message.id}
            message={message}
            own={message.user_id === me.user_id}
            continued={messages[i - 1]?.user_id === message.user_id}
            read={message.id === readMarkId}
          />
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
