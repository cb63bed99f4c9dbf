import { useEffect, useState } from 'preact/hooks';
import { MsgType, signedFileUrl, type ChatMessage } from '@im/client';
import { lang, t } from '../i18n/i18n.ts';
import { im } from '../state/session.ts';
import type { PendingItem } from '../state/chat-store.ts';
import { imageSource, saveFile } from '../transport/media.ts';

interface MessageProps {
  message: ChatMessage;
  own: boolean;
  /** Same sender as the message above: no name and avatar again. */
  continued: boolean;
  /** My newest message the others have read (Part 2 read state). */
  read?: boolean;
}

export function MessageItem({ message, own, continued, read }: MessageProps) {
  const time = new Date(message.date);
  return (
    <li class={`message${own ? ' own' : ''}${continued ? ' continued' : ''}`} data-id={message.id} data-client-msg-id={message.client_msg_id}>
      {!continued && <img class="avatar" src={im.assetUrl(message.avatar)} alt="" width={32} height={32} loading="lazy" />}
      <div class="bubble">
        {!continued && (
          <div class="meta">
            <span class="author">{own ? `${message.username} (${t('chat.you')})` : message.username}</span>
            <time dateTime={message.date} title={time.toLocaleString(lang.value === 'zh' ? 'zh-CN' : 'en')}>
              {time.toLocaleTimeString(lang.value === 'zh' ? 'zh-CN' : 'en', { hour: '2-digit', minute: '2-digit' })}
            </time>
          </div>
        )}
        <MessageBody message={message} />
        {read && <span class="read-mark">{t('chat.read')}</span>}
      </div>
    </li>
  );
}

function MessageBody({ message }: { message: ChatMessage }) {
  if (message.msg_type === MsgType.Image && message.file) return <InlineImage message={message} />;
  if (message.msg_type === MsgType.File && message.file) {
    return (
      <div class="file">
        <span class="file-name">{message.file.original_name || message.content}</span>
        <span class="muted"> · {formatSize(message.file.size)}</span>
        <button type="button" class="link" onClick={() => void saveFile(message)}>
          {t('chat.download')}
        </button>
      </div>
    );
  }
  return <p class="text">{message.content}</p>;
}

/** An image message shown in place (a blob: URL on Part 1 servers, see transport/media.ts). */
function InlineImage({ message }: { message: ChatMessage }) {
  // A signed url (Part 2) loads directly; only Part 1 frames wait for a fetched blob: URL.
  const signed = signedFileUrl(message);
  const [src, setSrc] = useState<string | undefined>(signed && im.assetUrl(signed));
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (signed) return;
    let live = true;
    imageSource(message).then(
      (url) => live && setSrc(url),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [message.file?.name]);
  const alt = message.file?.original_name || message.content;
  if (failed) return <p class="muted">{t('chat.imageFailed')}</p>;
  if (!src) return <p class="muted image-placeholder">{t('chat.imageLoading')}</p>;
  return (
    <button type="button" class="image-button" onClick={() => void saveFile(message)} title={t('chat.download')}>
      <img class="chat-image" src={src} alt={alt} onError={() => setFailed(true)} />
    </button>
  );
}

export function PendingMessageItem({ item, onRetry }: { item: PendingItem; onRetry: () => void }) {
  return (
    <li class={`message own pending${item.status === 'failed' ? ' failed' : ''}`} data-client-msg-id={item.clientMsgId} aria-busy={item.status === 'sending'}>
      <div class="bubble">
        <p class="text">{item.content}</p>
        <div class="meta">
          {item.status === 'sending' ? (
            <span class="muted">{t('chat.sending')}</span>
          ) : (
            <>
              <span class="error">{t('chat.failed', { reason: item.error ?? '' })}</span>
              <button type="button" class="link" onClick={onRetry}>
                {t('conn.retryNow')}
              </button>
            </>
          )}
        </div>
      </div>
    </li>
  );
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
