import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { addMembersInput, changeRoleInput, createRoomInput, renameRoomInput } from '../../rooms/schemas.ts';
import { addMembersResultSchema, memberSchema, roomSchema, roomWithMembersSchema } from '../part2-schemas.ts';
import { pageOf } from '../schemas.ts';
import { jsonResponses, signedIn } from '../responses.ts';

// The limits in these inputs come from settings; the document shows the defaults'.
const createInput = createRoomInput(500);
const addInput = addMembersInput(500);
const roomPath = z.object({ room_id: z.string().meta({ description: '12 lowercase hex characters' }) });
const memberPath = roomPath.extend({ user_id: z.string().meta({ description: 'The member: 10 hex characters' }) });
const RIGHTS = 'A room the caller is not in answers 404 / 1005 (rooms cannot be probed); a member without the right 403 / 1004.';

/** routes/rooms.ts (docs/protocol-part2.md, Rooms). */
export const roomsPaths: ZodOpenApiPathsObject = {
  '/api/rooms': {
    post: {
      tags: ['rooms'],
      summary: 'Create a room; the caller owns it',
      description:
        'member_ids: users to add (at most rooms.max_members_per_call, the room at most rooms.max_members, each user in at most ' +
        'rooms.max_rooms_per_user rooms). Unknown ids are 1002 naming them (data.unknown_user_ids). Members get a created room event.',
      security: signedIn,
      requestBody: { content: { 'application/json': { schema: createInput } } },
      responses: jsonResponses('The new room', roomSchema, [400, 401]),
    },
    get: {
      tags: ['rooms'],
      summary: "The caller's rooms, by name, with the caller's role",
      security: signedIn,
      responses: jsonResponses('Every room of the caller', pageOf(roomSchema, 'RoomList'), [401]),
    },
  },
  '/api/rooms/{room_id}': {
    get: {
      tags: ['rooms'],
      summary: 'A room and its members (members only)',
      description: RIGHTS,
      security: signedIn,
      requestParams: { path: roomPath },
      responses: jsonResponses('The room with its members', roomWithMembersSchema, [401, 404]),
    },
    patch: {
      tags: ['rooms'],
      summary: 'Rename a room (owner or admin)',
      description: `${RIGHTS} Members get a renamed event (none when the name is unchanged).`,
      security: signedIn,
      requestParams: { path: roomPath },
      requestBody: { content: { 'application/json': { schema: renameRoomInput } } },
      responses: jsonResponses('The room', roomSchema, [400, 401, 403, 404]),
    },
  },
  '/api/rooms/{room_id}/members': {
    post: {
      tags: ['rooms'],
      summary: 'Add members (owner or admin)',
      description: `${RIGHTS} Users already in the room are listed in already_members. Each new member gets member_added and starts reading after the room's latest message.`,
      security: signedIn,
      requestParams: { path: roomPath },
      requestBody: { content: { 'application/json': { schema: addInput } } },
      responses: jsonResponses('Who was added', addMembersResultSchema, [400, 401, 403, 404]),
    },
  },
  '/api/rooms/{room_id}/members/{user_id}': {
    delete: {
      tags: ['rooms'],
      summary: 'Remove a member (owner: anyone; admin: members) or leave (yourself)',
      description:
        `${RIGHTS} The owner may leave: the longest-standing admin (else member) becomes owner; the last member leaving ` +
        'deletes the room. The member gets member_removed and stops receiving the room at once.',
      security: signedIn,
      requestParams: { path: memberPath },
      responses: jsonResponses('The room after the change (role absent when the caller left)', roomSchema, [401, 403, 404]),
    },
    patch: {
      tags: ['rooms'],
      summary: "Change a member's role (owner only)",
      description: `${RIGHTS} role is admin or member; the owner's own role does not change here (1002).`,
      security: signedIn,
      requestParams: { path: memberPath },
      requestBody: { content: { 'application/json': { schema: changeRoleInput } } },
      responses: jsonResponses('The member', memberSchema, [400, 401, 403, 404]),
    },
  },
};
