import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { WS_FRAMES_SCHEMA_ID, wsFramesJsonSchema } from '@im/protocol';

// ajv-formats is CommonJS with its function as the default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/**
 * The WebSocket frames' JSON Schema as client authors get it (`wsFramesJsonSchema`, served at
 * /api/ws-frames.schema.json), compiled by ajv: tests hold real frames to the document itself.
 */
// Strict, except that a property may have more than one type (`file.id`: string or number).
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }));
ajv.addSchema(wsFramesJsonSchema());

function validator(name: string) {
  const validate = ajv.getSchema(`${WS_FRAMES_SCHEMA_ID}#/$defs/${name}`);
  if (!validate) throw new Error(`frame-check: no $defs/${name} in the frames schema`);
  return (frame: unknown): string | undefined => (validate(frame) ? undefined : ajv.errorsText(validate.errors, { dataVar: 'frame' }));
}

/** Why `frame` is not a server frame of the protocol, or undefined when it is one. */
export const serverFrameProblem = validator('ServerFrame');

/** Why `frame` is not a valid client frame, or undefined when it is one. */
export const clientFrameProblem = validator('ClientFrame');

/** Why `frame` is not a frame of `ws /api/chat`, or undefined when it is one. */
export const chatServerFrameProblem = validator('Part2ServerFrame');

/** Why `frame` is not a client frame of `ws /api/chat`, or undefined when it is one. */
export const chatClientFrameProblem = validator('Part2ClientFrame');
