/**
 * Build-time settings (Vite `VITE_*` variables, read when `npm run build:web` runs):
 * - VITE_IM_SERVER: the server's public base URL when the app is hosted elsewhere (a CDN);
 *   empty (the default) means the page's own origin, i.e. the front door that serves the app.
 *   A different origin must be in the server's gateway.allowed_origins (CORS and sockets).
 * - VITE_IM_OUTBOX_HINT: `false` hides the sign-in hint about var/outbox for deployments with
 *   real mail.
 */
export const serverBaseUrl: string = (import.meta.env.VITE_IM_SERVER ?? '').replace(/\/$/, '');
export const showOutboxHint: boolean = import.meta.env.VITE_IM_OUTBOX_HINT !== 'false';

