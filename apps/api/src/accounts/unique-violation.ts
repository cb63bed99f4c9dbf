import type { Prisma } from '@im/db';

const INDEX_FIELDS: Record<string, string> = {
  users_email_key: 'email',
  users_username_key: 'username',
  PRIMARY: 'user_id',
};

/**
 * Which users column a P2002 (unique violation) hit. Through the MariaDB driver adapter Prisma
 * reports the index name under `driverAdapterError`, not the usual `target`.
 */
export function uniqueViolationField(err: Prisma.PrismaClientKnownRequestError): string | undefined {
  if (err.code !== 'P2002') return undefined;
  const meta = err.meta as
    | { target?: string | string[]; driverAdapterError?: { cause?: { constraint?: { index?: string; fields?: string[] } } } }
    | undefined;
  const constraint = meta?.driverAdapterError?.cause?.constraint;
  const index = constraint?.index ?? (typeof meta?.target === 'string' ? meta.target : undefined);
  if (index && INDEX_FIELDS[index]) return INDEX_FIELDS[index];
  const fields = constraint?.fields ?? (Array.isArray(meta?.target) ? meta.target : undefined);
  return fields?.[0];
}
