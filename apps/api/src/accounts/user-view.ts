import type { User } from '@im/db';

/** The public user as the contract lists it (the original's field names). */
export interface UserView {
  user_id: string;
  user_name: string;
  avatar: string;
  email: string;
  created_at: string;
  updated_at: string;
}

export function toUserView(user: User): UserView {
  return {
    user_id: user.userId,
    user_name: user.username,
    avatar: user.avatar,
    email: user.email,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}
