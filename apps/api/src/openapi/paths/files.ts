import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { downloadQuery, listFilesQuery, uploadQuery } from '../../files/schemas.ts';
import { binarySchema, fileFormSchema, fileSchema, pageOf } from '../schemas.ts';
import { failureResponses, jsonResponses, signedIn } from '../responses.ts';

/** routes/files.ts */
export const filesPaths: ZodOpenApiPathsObject = {
  '/api/files/upload': {
    post: {
      tags: ['files'],
      summary: 'Upload a file for the group room or for one user',
      description:
        'No target_id: a group file anyone signed in may read. Size (upload.max_file_bytes), per-user quota and type ' +
        '(upload.allowed_types, checked against the bytes) limits apply: 413 / 415 with 1008.',
      security: signedIn,
      requestParams: { query: uploadQuery },
      requestBody: { content: { 'multipart/form-data': { schema: fileFormSchema } } },
      responses: jsonResponses('The stored file', fileSchema, [400, 401, 404, 413, 415]),
    },
  },
  '/api/files/download': {
    get: {
      tags: ['files'],
      summary: 'The bytes of a file the caller may read',
      description:
        'Content-Disposition: attachment with the original name, nosniff, ETag and Last-Modified. Range requests get 206, ' +
        'If-None-Match with the ETag gets 304. Anyone but the uploader and the target (for a private file) gets 404.',
      security: signedIn,
      requestParams: { query: downloadQuery },
      responses: {
        200: { description: 'The whole file, with the type found at upload', content: { '*/*': { schema: binarySchema } } },
        206: { description: 'The requested range (Content-Range)', content: { '*/*': { schema: binarySchema } } },
        304: { description: 'Not modified (If-None-Match)' },
        ...failureResponses([400, 401, 404, 416]),
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
