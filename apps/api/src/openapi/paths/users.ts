import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { listUsersInput, loginInput, registerInput } from '../../accounts/schemas.ts';
import { notificationSettingsInput } from '../../notifications/notification-settings.ts';
import { fileFormSchema, loginTokenSchema, notificationSettingsSchema, pageOf, userSchema } from '../schemas.ts';
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
  '/api/users/notifications': {
    get: {
      tags: ['users'],
      summary: "The caller's notification settings",
      description: 'Without any set: no digest, Chinese.',
      security: signedIn,
      responses: jsonResponses('The settings', notificationSettingsSchema, [401]),
    },
    put: {
      tags: ['users'],
      summary: 'Opt in to (or out of) the offline digest mail, and choose its language',
      description:
        'A field left out keeps its value. With digest on, messages that reach the caller while no socket of theirs is connected ' +
        '(private messages, room messages that @mention them or @all) are mailed in a digest, at most one per digest_interval_seconds.',
      security: signedIn,
      requestBody: { content: { 'application/json': { schema: notificationSettingsInput } } },
      responses: jsonResponses('The settings as they are now', notificationSettingsSchema, [400, 401, 413]),
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
