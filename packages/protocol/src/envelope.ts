import { ErrorCode } from './error-codes.ts';

/** Every HTTP answer except file downloads and static files has this shape. */
export interface Envelope<T = unknown> {
  code: number;
  data: T;
  msg: string;
}

export function ok<T>(data: T, msg = '成功'): Envelope<T> {
  return { code: ErrorCode.Ok, data, msg };
}
