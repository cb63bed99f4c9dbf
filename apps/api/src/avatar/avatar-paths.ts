/** Storage key and public path of a user's avatar; the public path is what `avatar` holds. */
export function avatarKey(userId: string): string {
  return `avatar/${userId}.png`;
}

export function avatarPublicPath(userId: string): string {
  return `uploads/${avatarKey(userId)}`;
}

/** File names the avatar route serves: exactly what avatarKey makes, nothing else. */
export const AVATAR_FILE_PATTERN = /^[0-9a-f]{10}\.png$/;
