/** The message a supervised process sends its supervisor (scripts/cluster/supervisor.ts) once it serves. */
export const READY_MESSAGE = { type: 'im:ready' } as const;

/**
 * Tells the start command's supervisor this process is ready, for processes without a `/readyz`
 * to poll (the mail worker). A no-op when nobody started it with an IPC channel.
 */
export function announceReady(): void {
  if (!process.send) return;
  process.send(READY_MESSAGE);
  // The channel must not keep the process alive by itself once it is done.
  process.channel?.unref();
}
