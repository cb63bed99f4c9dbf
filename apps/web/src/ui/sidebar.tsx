import { useSignal } from '@preact/signals';
import { MsgType, privateConversation, type ChatMessage } from '@im/client';
import { lang, t } from '../i18n/i18n.ts';
import { im } from '../state/session.ts';
import type { ChatStore, ConversationState, Person } from '../state/chat-store.ts';
import type { ChatTransport } from '../transport/transport.ts';
import { NewRoomDialog } from './room-dialogs.tsx';

interface SidebarProps {
  store: ChatStore;
  transport: ChatTransport;
  onOpen: (id: string) => void;
  onPrivate: (peer: Person) => void;
}

/** The name a conversation goes by on screen. */
export function titleOf(state: ConversationState): string {
  if (state.kind === 'group') return t('chat.group');
  if (state.kind === 'room') return state.room.value?.name ?? state.id;
  return state.peer?.user_name ?? state.id;
}

/**
 * The conversations (the inbox: newest activity first, unread badges, last message, who is
 * online), a button for a new room, then everyone else to start a private chat with.
 */
export function Sidebar({ store, transport, onOpen, onPrivate }: SidebarProps) {
  const filter = useSignal('');
  const creating = useSignal(false);
  const me = im.user!;
  const online = store.online.value;

  const query = filter.value.trim().toLowerCase();
  const people = store.people.value
    .filter((p) => p.user_id !== me.user_id)
    .filter((p) => !query || p.user_name.toLowerCase().includes(query))
    .sort((a, b) => Number(online.has(b.user_id)) - Number(online.has(a.user_id)) || a.user_name.localeCompare(b.user_name));

  return (
    <nav class="sidebar" aria-label={t('chat.conversations')}>
      <div class="section-head">
        <h2 class="section-title" id="chats-title">
          {t('chat.chats')}
        </h2>
        <button type="button" class="link new-room" onClick={() => (creating.value = true)}>
          + {t('room.new')}
        </button>
      </div>
      <ul class="conversations inbox" aria-labelledby="chats-title">
        {store.inbox.value.map((state) => (
          <li key={state.id}>
            <ConversationItem state={state} store={store} onOpen={() => onOpen(state.id)} />
          </li>
        ))}
      </ul>
      <h2 class="section-title" id="people-title">
        {t('chat.people')}
      </h2>
      <input
        class="search"
        type="search"
        placeholder={t('chat.search')}
        aria-label={t('chat.search')}
        value={filter.value}
        onInput={(e) => (filter.value = e.currentTarget.value)}
      />
      <ul class="conversations people" aria-labelledby="people-title">
        {people.map((peer) => {
          const id = privateConversation(me.user_id, peer.user_id);
          const isOnline = online.has(peer.user_id);
          return (
            <li key={peer.user_id}>
              <button
                type="button"
                class="conversation-item"
                aria-current={store.activeId.value === id ? 'page' : undefined}
                aria-label={`${peer.user_name}${isOnline ? ` (${t('chat.online')})` : ''}`}
                data-user-id={peer.user_id}
                onClick={() => onPrivate(peer)}
              >
                <span class="avatar-wrap">
                  <img class="avatar" src={im.assetUrl(peer.avatar)} alt="" width={32} height={32} loading="lazy" />
                  {isOnline && <span class="presence" aria-hidden="true" />}
                </span>
                <span class="item-text">
                  <span class="item-title">{peer.user_name}</span>
                  {isOnline && <span class="item-subtitle online">{t('chat.online')}</span>}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {store.peopleTotal.value > store.people.value.length && (
        <button type="button" class="link more" onClick={() => void transport.loadMorePeople()}>
          {t('chat.loadMorePeople')}
        </button>
      )}
      {creating.value && (
        <NewRoomDialog
          store={store}
          transport={transport}
          onClose={(created) => {
            creating.value = false;
            if (created) onOpen(created);
          }}
        />
      )}
    </nav>
  );
}

function ConversationItem({ state, store, onOpen }: { state: ConversationState; store: ChatStore; onOpen: () => void }) {
  const title = titleOf(state);
  const unread = state.unread.value;
  const peerOnline = state.peer ? store.online.value.has(state.peer.user_id) : false;
  const last = state.lastMessage.value;
  const badge = unread.capped ? '99+' : String(unread.count);
  const label = [title, peerOnline ? t('chat.online') : '', unread.count > 0 ? t('chat.unread', { n: badge }) : ''].filter(Boolean).join(', ');
  return (
    <button
      type="button"
      class="conversation-item"
      aria-current={store.activeId.value === state.id ? 'page' : undefined}
      aria-label={label}
      data-conversation={state.id}
      onClick={onOpen}
    >
      {state.kind === 'private' && state.peer ? (
        <span class="avatar-wrap">
          <img class="avatar" src={im.assetUrl(state.peer.avatar)} alt="" width={32} height={32} loading="lazy" />
          {peerOnline && <span class="presence" aria-hidden="true" />}
        </span>
      ) : (
        <span class={`group-icon${state.kind === 'room' ? ' room' : ''}`} aria-hidden="true">
          {state.kind === 'group' ? '#' : title.slice(0, 1).toUpperCase()}
        </span>
      )}
      <span class="item-text">
        <span class="item-title">{title}</span>
        <span class="item-subtitle preview">{last ? preview(last) : state.kind === 'group' ? t('chat.onlineCount', { n: Math.max(store.onlineCount.value, store.online.value.size) }) : t('chat.noMessagesYet')}</span>
      </span>
      <span class="item-side">
        {last && <time class="item-time">{shortTime(last.date)}</time>}
        {unread.count > 0 && (
          <span class="badge" aria-hidden="true">
            {badge}
          </span>
        )}
      </span>
    </button>
  );
}

function preview(message: ChatMessage): string {
  const who = message.user_id === im.user?.user_id ? t('chat.you') : message.username;
  const what =
    message.msg_type === MsgType.Image
      ? t('chat.imagePreview')
      : message.msg_type === MsgType.File
        ? t('chat.filePreview', { name: message.file?.original_name ?? message.content })
        : message.content;
  return `${who}: ${what}`;
}

function shortTime(date: string): string {
  const when = new Date(date);
  const locale = lang.value === 'zh' ? 'zh-CN' : 'en';
  const sameDay = when.toDateString() === new Date().toDateString();
  return sameDay ? when.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' }) : when.toLocaleDateString(locale, { month: 'short', day: 'numeric' });
}
