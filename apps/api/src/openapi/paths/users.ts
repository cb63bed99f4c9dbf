import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { listUsersInput, loginInput, registerInput } from '../../accounts/schemas.ts';
import { fileFormSchema, loginTokenSchema, pageOf, userSchema } from '../schemas.ts';
import { jsonResponses, signedIn } from '../responses.ts';

/** routes/users.ts and the avatar upload (routes/avatars.ts). */
export const usersPaths: ZodOpenApiPathsObject = {
  '/api/users/register': {
    post: {
      tags: ['users'],
      summary: 'Create an account',
      description: 'Every user gets a generated default avatar. Registrations are limited per IP (429 / 1007).',
      requestBody: { content: { 'application/json': { schema: registerInput } } },
      responses: jsonResponses('The new public user ("用户创建成功 <name>")', userSchema, [400, 409, 413, 429]),
    },
  },
  '/api/users/login': {
    post: {
      tags: ['users'],
      summary: 'Two-step login',
      description:
        'Step 1 {email, password}: a 6-digit code is mailed and data is {} (msg "验证码已发送"). Step 2 {email, password, code}: data is the token. ' +
        'With email verification off, step 1 answers the token. A wrong password and an unknown email get the same 401. ' +
        'After 5 wrong codes the code is dead (429 / 1007) until step 1 sends a new one.',
      requestBody: { content: { 'application/json': { schema: loginInput } } },
      responses: jsonResponses('Code sent ({}) or signed in (the token)', z.union([z.strictObject({}), loginTokenSchema]), [400, 401, 413, 429]),
    },
  },
  '/api/users/logout': {
    post: {
      tags: ['users'],
      summary: 'Revoke the token, for HTTP and every socket it opened, on every gateway',
      security: signedIn,
      responses: jsonResponses('Logged out ("注销成功")', z.strictObject({}), [401]),
    },
  },
  '/api/users': {
    get: {
      tags: ['users'],
      summary: 'Users, a page at a time',
      security: signedIn,
      requestParams: { query: listUsersInput },
      responses: jsonResponses('A page of users', pageOf(userSchema, 'UserPage'), [400, 401]),
    },
  },
  '/api/users/avatar': {
    post: {
      tags: ['users'],
      summary: "Replace the caller's avatar",
      description: 'A PNG, JPEG, GIF or WebP image judged by its bytes, at most upload.max_avatar_bytes (1 MiB).',
      security: signedIn,
      requestBody: { content: { 'multipart/form-data': { schema: fileFormSchema } } },
      responses: jsonResponses('The public user with the new avatar', userSchema, [400, 401, 413, 415]),
    },
  },
};
