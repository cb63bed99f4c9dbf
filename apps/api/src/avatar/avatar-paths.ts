import { randomBytes } from 'node:crypto';

/** Storage key and public path of a user's default avatar; the public path is what `avatar` holds. */
export function avatarKey(userId: string): string {
  return `avatar/${userId}.png`;
}

export function avatarPublicPath(userId: string): string {
  return `uploads/${avatarKey(userId)}`;
}

/** A new key for an uploaded avatar: `avatar/<user_id>-<8 hex>.<ext>`, never reused. */
export function uploadedAvatarKey(userId: string, ext: string): string {
  return `avatar/${userId}-${randomBytes(4).toString('hex')}.${ext}`;
}

/** File names the avatar route serves: exactly what avatarKey and uploadedAvatarKey make, nothing else. */
export const AVATAR_FILE_PATTERN = /^[0-9a-f]{10}(?:\.png|-[0-9a-f]{8}\.(?:png|jpg|gif|webp))$/;

/** Content-Type of a served avatar, by the extension the server gave it. */
export const AVATAR_CONTENT_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

/** The storage key behind a user's `avatar` value, if it is one the server made. */
export function avatarKeyOfPublicPath(path: string): string | undefined {
  const match = /^uploads\/avatar\/([^/]+)$/.exec(path);
  return match && AVATAR_FILE_PATTERN.test(match[1]!) ? `avatar/${match[1]}` : undefined;
}
