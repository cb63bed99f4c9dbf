import { z } from 'zod';
import { MsgType } from '@im/protocol';

/** Message types a client may send; 1–3 are the server's own. */
const CLIENT_TYPES = [MsgType.Text, MsgType.File, MsgType.FileProgress, MsgType.Image] as const;

/** A client frame as docs/protocol.md describes it. Unknown extra fields are ignored. */
export const clientFrameSchema = z.object({
  content: z.string({ error: 'content 必须是字符串' }),
  msg_type: z
    .number({ error: 'msg_type 必须是数字' })
    .int()
    .refine((type) => (CLIENT_TYPES as readonly number[]).includes(type), '不支持的 msg_type'),
  client_msg_id: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'client_msg_id 为 1–64 个字母、数字或 _.:-')
    .optional(),
  file: z
    .object({
      name: z.string().max(128).optional(),
      id: z.union([z.string(), z.number()]).optional(),
    })
    .optional(),
});

export type ClientFrame = z.infer<typeof clientFrameSchema>;
