import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { RoomDetails } from '@im/client';
import { describeError, t } from '../i18n/i18n.ts';
import { im } from '../state/session.ts';
import type { ChatStore, ConversationState } from '../state/chat-store.ts';
import type { ChatTransport } from '../transport/transport.ts';

/**
 * A modal `<dialog>`: the browser keeps focus inside, Escape closes it, and focus returns to the
 * button that opened it — keyboard use without code of ours.
 */
function Dialog({ label, onClose, children }: { label: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current!;
    if (!dialog.open) dialog.showModal();
    return () => dialog.close();
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-label={label} onClose={onClose} onCancel={onClose}>
      {children}
    </dialog>
  );
}

/** People to pick from (those loaded in the list of people), each a checkbox. */
function PeoplePicker({ store, exclude, picked, onChange }: { store: ChatStore; exclude: Set<string>; picked: Set<string>; onChange: (next: Set<string>) => void }) {
  const candidates = store.people.value.filter((p) => p.user_id !== store.selfId && !exclude.has(p.user_id));
  if (candidates.length === 0) return <p class="muted">{t('room.nobodyToAdd')}</p>;
  return (
    <ul class="picker">
      {candidates.map((person) => (
        <li key={person.user_id}>
          <label>
            <input
              type="checkbox"
              checked={picked.has(person.user_id)}
              onChange={(e) => {
                const next = new Set(picked);
                if (e.currentTarget.checked) next.add(person.user_id);
                else next.delete(person.user_id);
                onChange(next);
              }}
            />
            <img class="avatar small" src={im.assetUrl(person.avatar)} alt="" width={24} height={24} />
            {person.user_name}
          </label>
        </li>
      ))}
    </ul>
  );
}

/** A name and members; the new room opens once created. */
export function NewRoomDialog({ store, transport, onClose }: { store: ChatStore; transport: ChatTransport; onClose: (created?: string) => void }) {
  const [name, setName] = useState('');
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      onClose(await transport.createRoom(name.trim(), [...picked]));
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  return (
    <Dialog label={t('room.new')} onClose={() => onClose()}>
      <form method="dialog" onSubmit={(e) => void submit(e)} aria-busy={busy}>
        <h2>{t('room.new')}</h2>
        <label>
          {t('room.name')}
          <input name="room-name" required maxLength={64} autoFocus value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <fieldset>
          <legend>{t('room.pickMembers')}</legend>
          <PeoplePicker store={store} exclude={new Set()} picked={picked} onChange={setPicked} />
        </fieldset>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="row end">
          <button type="button" class="link" onClick={() => onClose()}>
            {t('room.cancel')}
          </button>
          <button type="submit" class="primary" disabled={busy || !name.trim()}>
            {t('room.create')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The room's members: add (owner, admin), remove (owner, admin; not the owner), leave. */
export function RoomMembersDialog({ store, state, transport, onClose }: { store: ChatStore; state: ConversationState; transport: ChatTransport; onClose: () => void }) {
  const [details, setDetails] = useState<RoomDetails | undefined>();
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [error, setError] = useState('');
  const reload = () =>
    transport.roomDetails(state.id).then(
      (room) => setDetails(room),
      (err) => setError(describeError(err)),
    );
  useEffect(() => void reload(), [state.id]);

  const act = async (action: () => Promise<void>) => {
    setError('');
    try {
      await action();
      await reload();
    } catch (err) {
      setError(describeError(err));
    }
  };
  const manager = details?.role === 'owner' || details?.role === 'admin';
  const name = state.room.value?.name ?? '';
  return (
    <Dialog label={t('room.manage')} onClose={onClose}>
      <h2>
        {name} · {t('room.memberCount', { n: details?.member_count ?? state.room.value?.member_count ?? 0 })}
      </h2>
      <ul class="members" aria-label={t('room.members')}>
        {details?.members.map((member) => (
          <li key={member.user_id} data-user-id={member.user_id}>
            <img class="avatar small" src={im.assetUrl(member.avatar)} alt="" width={24} height={24} />
            <span class="member-name">{member.user_id === store.selfId ? `${member.user_name} (${t('chat.you')})` : member.user_name}</span>
            <span class="muted">{t(`room.role.${member.role}`)}</span>
            {manager && member.user_id !== store.selfId && member.role !== 'owner' && (details.role === 'owner' || member.role === 'member') && (
              <button type="button" class="link" aria-label={t('room.removeNamed', { name: member.user_name })} onClick={() => void act(() => transport.removeMember(state.id, member.user_id))}>
                {t('room.remove')}
              </button>
            )}
          </li>
        ))}
      </ul>
      {manager && details && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act(async () => {
              await transport.addMembers(state.id, [...picked]);
              setPicked(new Set());
            });
          }}
        >
          <fieldset>
            <legend>{t('room.addMember')}</legend>
            <PeoplePicker store={store} exclude={new Set(details.members.map((m) => m.user_id))} picked={picked} onChange={setPicked} />
          </fieldset>
          <button type="submit" class="primary" disabled={picked.size === 0}>
            {t('room.add')}
          </button>
        </form>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="row end">
        <button
          type="button"
          class="link danger"
          onClick={() => {
            if (!window.confirm(t('room.leaveConfirm', { name }))) return;
            void transport.leaveRoom(state.id).then(onClose, (err) => setError(describeError(err)));
          }}
        >
          {t('room.leave')}
        </button>
        <button type="button" class="primary" onClick={onClose}>
          {t('room.close')}
        </button>
      </div>
    </Dialog>
  );
}
