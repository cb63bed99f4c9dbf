import { computed, effect, signal } from '@preact/signals';
import { ApiError } from '@im/client';
import { en, zh, type MessageKey } from './messages.ts';

/**
 * Two languages, chosen from the browser's languages (any Chinese one → 中文) until the user
 * switches; the choice is remembered. A dictionary and a `{name}` formatter are all this needs,
 * so no i18n library.
 */
export type Lang = 'zh' | 'en';

const STORAGE_KEY = 'im.lang';

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'zh' || saved === 'en') return saved;
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of preferred) {
    if (/^zh\b/i.test(tag)) return 'zh';
    if (/^en\b/i.test(tag)) return 'en';
  }
  return 'en';
}

export const lang = signal<Lang>(initialLang());

effect(() => {
  document.documentElement.lang = lang.value === 'zh' ? 'zh-CN' : 'en';
});

export function setLang(next: Lang): void {
  lang.value = next;
  localStorage.setItem(STORAGE_KEY, next);
}

const dictionary = computed(() => (lang.value === 'zh' ? zh : en));

/** The string for `key` in the current language, with `{name}` placeholders filled. */
export function t(key: MessageKey, values: Record<string, string | number> = {}): string {
  const text: string = dictionary.value[key];
  return text.replace(/\{(\w+)\}/g, (all, name: string) => (name in values ? String(values[name]) : all));
}

/** A failed call as the user should read it, in their language. */
export function describeError(err: unknown): string {
  if (!(err instanceof ApiError)) return t('error.other', { msg: (err as Error)?.message ?? String(err) });
  if (err.status === 0 && err.code === 7) return t('error.network');
  switch (err.code) {
    case 1002: {
      const first = (err.data.errors as { message?: string }[] | undefined)?.[0]?.message;
      return t('error.1002', { msg: first ?? err.message });
    }
    case 1003:
      return t('error.1003');
    case 1005:
      return t('error.1005');
    case 1006:
      return t(err.data.field === 'username' ? 'error.1006.username' : 'error.1006.email');
    case 1007:
      return t('error.1007', { s: err.retryAfterSeconds ?? 60 });
    case 1008:
      return t('error.1008');
    case 1500:
      return t('error.1500');
    default:
      return t('error.other', { msg: err.message });
  }
}
