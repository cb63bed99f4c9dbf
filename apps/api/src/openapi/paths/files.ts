import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { downloadQuery, listFilesQuery, uploadQuery } from '../../files/schemas.ts';
import { z } from 'zod';
import { binarySchema, fileFormSchema, fileSchema, pageOf } from '../schemas.ts';
import { conversationFileSchema } from '../part2-schemas.ts';
import { failureResponses, jsonResponses, signedIn } from '../responses.ts';

/** routes/files.ts */
export const filesPaths: ZodOpenApiPathsObject = {
  '/api/files/upload': {
    post: {
      tags: ['files'],
      summary: 'Upload a file for the group room, one user, or any conversation',
      description:
        'No target_id: a group file anyone signed in may read. conversation (Part 2): any conversation the caller may see (404 ' +
        'otherwise); the answer then also names it and carries a signed url. Size (upload.max_file_bytes), per-user quota and ' +
        'type (upload.allowed_types, checked against the bytes) limits apply: 413 / 415 with 1008.',
      security: signedIn,
      requestParams: { query: uploadQuery },
      requestBody: { content: { 'multipart/form-data': { schema: fileFormSchema } } },
      responses: jsonResponses('The stored file', z.union([fileSchema, conversationFileSchema]), [400, 401, 404, 413, 415]),
    },
  },
  '/api/files/download': {
    get: {
      tags: ['files'],
      summary: 'The bytes of a file the caller may read',
      description:
        'Content-Disposition: attachment with the original name, nosniff, ETag and Last-Modified. Range requests get 206, ' +
        'If-None-Match with the ETag gets 304. Who may read: the group file anyone signed in, a private file its two users, a ' +
        "room's file its members and uploader; anyone else gets 404. With expires and sig (a signed url) no token is needed: a " +
        'forged or altered link is 404, a genuine one past its time 403.',
      security: [...signedIn, {}],
      requestParams: { query: downloadQuery },
      responses: {
        200: { description: 'The whole file, with the type found at upload', content: { '*/*': { schema: binarySchema } } },
        206: { description: 'The requested range (Content-Range)', content: { '*/*': { schema: binarySchema } } },
        304: { description: 'Not modified (If-None-Match)' },
        ...failureResponses([400, 401, 403, 404, 416]),
      },
    },
  },
  '/api/files': {
    get: {
      tags: ['files'],
      summary: "The caller's files, sent and received",
      security: signedIn,
      requestParams: { query: listFilesQuery },
      responses: jsonResponses('A page of files', pageOf(fileSchema, 'FilePage'), [400, 401]),
    },
  },
};
