/** What a log line says about a failure: its name and message, never a stack or a query. */
export function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error ? { name: err.name, message: err.message } : { value: String(err) };
}
