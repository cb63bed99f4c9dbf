import type { HttpClient } from '../http-client.ts';
import type { Page, PublicUser, Session } from '../types.ts';
import type { UploadOptions } from '../upload.ts';

export interface RegisterInput {
  email: string;
  /** 1–32 characters; no `/`, `\`, control characters or leading dot. */
  username: string;
  /** 8–128 characters. */
  password: string;
}

export interface LoginInput {
  email: string;
  password: string;
  /** The 6-digit code from the mail, for step 2. */
  code?: string;
}

/**
 * Step 1 with verification on answers `code-sent` (also for a wrong password or an unknown email:
 * the server does not say which); step 2, or step 1 with verification off, answers `signed-in`.
 */
export type LoginResult = { status: 'code-sent'; message: string } | { status: 'signed-in'; session: Session };

export type UserSort = 'username asc' | 'username desc' | 'created_at asc' | 'created_at desc';

export interface ListUsersInput {
  /** 1–100. @default 10 */
  limit?: number;
  /** @default 1 */
  page?: number;
  /** @default 'username asc' */
  sort?: UserSort;
}

/** Accounts: CONTRACT.md "Users". Login and logout go through ImClient, which keeps the session. */
export class AccountsApi {
  constructor(private readonly http: HttpClient) {}

  register(input: RegisterInput): Promise<PublicUser> {
    return this.http.request('/api/users/register', { body: input, auth: false });
  }

  async login(input: LoginInput): Promise<LoginResult> {
    const body = input.code === undefined ? { email: input.email, password: input.password } : input;
    const data = await this.http.request<Partial<Session>>('/api/users/login', { body, auth: false });
    if (typeof data.token === 'string') return { status: 'signed-in', session: data as Session };
    return { status: 'code-sent', message: '验证码已发送' };
  }

  async logout(): Promise<void> {
    await this.http.request('/api/users/logout', { method: 'POST', body: {} });
  }

  list(input: ListUsersInput = {}): Promise<Page<PublicUser>> {
    return this.http.request('/api/users', { query: { limit: input.limit, page: input.page, sort: input.sort } });
  }

  /** A PNG, JPEG, GIF or WebP of at most `upload.max_avatar_bytes`; answers the updated user. */
  uploadAvatar(image: Blob, fileName = 'avatar', options: UploadOptions = {}): Promise<PublicUser> {
    return this.http.upload('/api/users/avatar', {}, image, fileName, options);
  }
}
