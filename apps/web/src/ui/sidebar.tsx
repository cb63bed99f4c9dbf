import { useSignal } from '@preact/signals';
import { GROUP_CONVERSATION, privateConversation, type PublicUser } from '@im/client';
import { t } from '../i18n/i18n.ts';
import { im } from '../state/session.ts';
import type { ChatStore } from '../state/chat-store.ts';
import type { ChatTransport } from '../transport/transport.ts';

interface SidebarProps {
  store: ChatStore;
  transport: ChatTransport;
  onGroup: () => void;
  onPrivate: (peer: PublicUser) => void;
}

/**
 * The group room, then people: online first (as far as Part 1's join and leave frames tell),
 * each opening a private chat. A dot marks conversations with something new.
 */
export function Sidebar({ store, transport, onGroup, onPrivate }: SidebarProps) {
  const filter = useSignal('');
  const me = im.user!;
  const active = store.activeId.value;
  const online = store.online.value;
  const conversations = store.conversations.value;
  const group = conversations.get(GROUP_CONVERSATION);

  const query = filter.value.trim().toLowerCase();
  const people = store.people.value
    .filter((p) => p.user_id !== me.user_id)
    .filter((p) => !query || p.user_name.toLowerCase().includes(query));
  // People who wrote first (found by the poll) but are not on the loaded page of people.
  for (const state of conversations.values()) {
    if (state.peer && !people.some((p) => p.user_id === state.peer!.user_id) && (!query || state.peer.user_name.toLowerCase().includes(query))) {
      people.push(state.peer);
    }
  }
  const unseen = (peerId: string) => conversations.get(privateConversation(me.user_id, peerId))?.unseen.value ?? false;
  people.sort(
    (a, b) =>
      Number(unseen(b.user_id)) - Number(unseen(a.user_id)) ||
      Number(online.has(b.user_id)) - Number(online.has(a.user_id)) ||
      a.user_name.localeCompare(b.user_name),
  );

  return (
    <nav class="sidebar" aria-label={t('chat.conversations')}>
      <ul class="conversations">
        <li>
          <button
            type="button"
            class="conversation-item"
            aria-current={active === GROUP_CONVERSATION ? 'page' : undefined}
            onClick={onGroup}
          >
            <span class="group-icon" aria-hidden="true">
              #
            </span>
            <span class="item-text">
              <span class="item-title">{t('chat.group')}</span>
              <span class="item-subtitle">{t('chat.onlineCount', { n: Math.max(store.onlineCount.value, online.size) })}</span>
            </span>
            {group?.unseen.value && <span class="dot" role="img" aria-label={t('chat.newMessages')} />}
          </button>
        </li>
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
                aria-current={active === id ? 'page' : undefined}
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
                {unseen(peer.user_id) && <span class="dot" role="img" aria-label={t('chat.newMessages')} />}
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
    </nav>
  );
}
