import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { binarySchema } from '../schemas.ts';
import { failureResponses } from '../responses.ts';

/** routes/avatars.ts: avatars at their public path, without a token (for <img>). */
export const avatarsPaths: ZodOpenApiPathsObject = {
  '/uploads/avatar/{name}': {
    get: {
      tags: ['users'],
      summary: 'An avatar image',
      description: 'Only names the server makes: <user_id>.png (the default) and <user_id>-<8 hex>.<png|jpg|gif|webp>.',
      requestParams: { path: z.object({ name: z.string() }) },
      responses: {
        200: {
          description: 'The image, with nosniff; uploaded names are cacheable for a year',
          content: Object.fromEntries(['image/png', 'image/jpeg', 'image/gif', 'image/webp'].map((type) => [type, { schema: binarySchema }])),
        },
        ...failureResponses([404]),
      },
    },
  },
};
