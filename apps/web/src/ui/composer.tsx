import { useRef, useState } from 'preact/hooks';
import { describeError, t } from '../i18n/i18n.ts';
import type { ConversationState } from '../state/chat-store.ts';
import type { ChatTransport } from '../transport/transport.ts';

/** Enter sends, Shift+Enter is a new line; the paperclip picks files (several at once). */
export function Composer({ state, transport }: { state: ConversationState; transport: ChatTransport }) {
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const files = useRef<HTMLInputElement>(null);

  // Until the conversation's history is in, there is no connection to send on yet.
  const ready = state.loaded.value;
  const send = () => {
    const content = text.trim();
    if (!content || !ready) return;
    try {
      transport.sendText(state.id, content);
      setText('');
      setError('');
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <button type="button" class="attach" aria-label={t('chat.attach')} title={t('chat.attach')} disabled={!ready} onClick={() => files.current?.click()}>
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          <path
            d="M16.5 6.5 8.9 14.1a1.9 1.9 0 0 0 2.7 2.7l7.8-7.8a3.8 3.8 0 0 0-5.4-5.4L6.2 11.4a5.7 5.7 0 0 0 8.1 8.1l6.2-6.2"
            fill="none"
            stroke="currentColor"
            stroke-width="1.8"
            stroke-linecap="round"
            stroke-linejoin="round"
          />
        </svg>
      </button>
      <input
        ref={files}
        type="file"
        multiple
        hidden
        aria-label={t('chat.attach')}
        onChange={(e) => {
          for (const file of e.currentTarget.files ?? []) void transport.sendFile(state.id, file);
          e.currentTarget.value = '';
        }}
      />
      <textarea
        rows={1}
        value={text}
        placeholder={t('chat.placeholder')}
        aria-label={t('chat.placeholder')}
        onInput={(e) => {
          setText(e.currentTarget.value);
          if (e.currentTarget.value.trim()) transport.typing(state.id);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      <button type="submit" class="primary" disabled={!text.trim() || !ready}>
        {t('chat.send')}
      </button>
      {error && (
        <p class="error composer-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
