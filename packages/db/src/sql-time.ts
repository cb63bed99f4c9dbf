/**
 * DATETIME(3) columns hold UTC, the way Prisma writes and reads them. Values go to the driver as
 * text in UTC and come back as text (pools opened with `dateStrings: true`), so neither the
 * process's nor the server's time zone matters.
 */
export function toSqlDateTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

export function fromSqlDateTime(value: Date | string): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}
