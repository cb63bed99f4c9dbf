import { signal } from '@preact/signals';
import { ImClient, webStorageTokenStore, type Session } from '@im/client';
import { serverBaseUrl } from '../config.ts';

/** The one SDK client of the page; the session survives reloads in localStorage. */
export const im = new ImClient({ baseUrl: serverBaseUrl, tokenStore: webStorageTokenStore(localStorage) });

export const session = signal<Session | null>(im.session);
/** Why the user is on the sign-in screen again, if the session ended by itself. */
export const sessionEndedNotice = signal(false);

im.on('session', (next, { expired }) => {
  session.value = next;
  if (!next && expired) sessionEndedNotice.value = true;
  if (next) sessionEndedNotice.value = false;
});
