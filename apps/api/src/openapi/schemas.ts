import { z } from 'zod';
import { ErrorCode } from '@im/protocol';
import type { UserView } from '../accounts/user-view.ts';
import type { FileView } from '../files/file-view.ts';

// What the API answers, as zod schemas: the OpenAPI document (document.ts) is generated from these
// and from the input schemas the routes validate with. The views' TypeScript types must match
// them exactly (checked by tsc below), and test/openapi.test.ts holds real answers to the document.

const isoDate = z.iso.datetime({ offset: true });
const userId = z.string().regex(/^[0-9a-f]{10}$/);

/** `{code: 0, data, msg}`: every successful JSON answer. */
export function okEnvelope<T extends z.ZodType>(data: T) {
  return z.strictObject({ code: z.literal(0), data, msg: z.string().meta({ description: 'Human-readable, in Chinese where the original server had wording ("成功")' }) });
}

const failureCodes = Object.values(ErrorCode).filter((code) => code !== ErrorCode.Ok) as [number, ...number[]];

export const errorEnvelope = z
  .strictObject({
    code: z.literal(failureCodes).meta({ description: 'Envelope error code (docs/protocol.md, Envelope)' }),
    data: z.record(z.string(), z.unknown()).meta({
      description: '{} or details: errors [{field, message}] for 1002, field for 1006, retry_after_seconds for 1007, checks for /readyz',
    }),
    msg: z.string(),
  })
  .meta({ id: 'Error', description: 'Every failure answers in the envelope, with an HTTP status of its class' });

export const userSchema = z
  .strictObject({
    user_id: userId,
    user_name: z.string(),
    avatar: z.string().meta({ description: 'Relative path, served without a token: uploads/avatar/<name>' }),
    email: z.string(),
    created_at: isoDate,
    updated_at: isoDate,
  })
  .meta({ id: 'User', description: 'The public user' });

export const loginTokenSchema = z
  .strictObject({
    token: z.string().meta({ description: 'JWT (HS256); send as Authorization: bearer <token>' }),
    token_type: z.literal('bearer'),
    expires_at: isoDate,
    user: userSchema,
  })
  .meta({ id: 'LoginToken' });

export const fileSchema = z
  .strictObject({
    user_id: userId.meta({ description: 'The uploader' }),
    target_id: userId.nullable().meta({ description: 'The private peer; null for a group file' }),
    path: z.string().meta({ description: 'api/files/download?file=<file_name>' }),
    file_name: z.string().meta({ description: 'Unique server-made name: the handle to download and to send in chat' }),
    original_name: z.string(),
    file_size: z.int().min(0),
    file_type: z.string().meta({ description: 'Lowercase extension' }),
    created_at: isoDate,
    conversation: z.string().optional().meta({ description: 'Only on files uploaded to a room: r:<room_id>' }),
  })
  .meta({ id: 'File', description: 'An uploaded file: the upload answer and the items of GET /api/files' });

/** `{count, list}`: `count` is the total for the query, not the page size. */
export function pageOf<T extends z.ZodType>(item: T, id: string) {
  return z
    .strictObject({ count: z.int().min(0).meta({ description: 'Total matching the query, not the page size' }), list: z.array(item) })
    .meta({ id });
}

const checkState = z.enum(['ok', 'down']);
export const readinessSchema = z.strictObject({ mysql: checkState, redis: checkState }).meta({ id: 'Readiness' });

/** A multipart form with one file part named `file`. */
export const fileFormSchema = z.strictObject({
  file: z.string().meta({ contentMediaType: 'application/octet-stream', description: 'The file: exactly one part named file' }),
});

/** Bytes, not JSON (downloads, avatars). */
export const binarySchema = z.string().meta({ contentMediaType: 'application/octet-stream' });

// The answers' TypeScript types and these schemas are the same shape.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape = <T extends true>(_proof?: T) => undefined;
sameShape<Exactly<z.infer<typeof userSchema>, UserView>>();
sameShape<Exactly<z.infer<typeof fileSchema>, FileView>>();

export const notificationSettingsSchema = z
  .strictObject({
    digest: z.boolean().meta({ description: 'A digest mail of the messages received while offline' }),
    language: z.enum(['zh', 'en']).meta({ description: 'Language of the digest mail' }),
    digest_interval_seconds: z.int().min(1).meta({ description: 'At most one digest mail per this many seconds' }),
  })
  .meta({ id: 'NotificationSettings' });
