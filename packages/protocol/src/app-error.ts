import { ErrorCode, type ErrorCodeValue } from './error-codes.ts';

/**
 * A failure the client should see: its envelope code, HTTP status and human message. Anything
 * thrown that is not an AppError is an internal error and is shown only as a generic 500.
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCodeValue,
    readonly status: number,
    message: string,
    /** Safe details for the client, sent as `data`. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The catalog: every error the services raise on purpose, with its code, status and wording. */
export const errors = {
  invalidParameter: (message = '参数错误', details?: Record<string, unknown>) =>
    new AppError(ErrorCode.InvalidParameter, 400, message, details),
  malformedJson: () => new AppError(ErrorCode.InvalidParameter, 400, '请求体不是合法的 JSON'),
  notAuthenticated: (message = '未登录或登录已失效') => new AppError(ErrorCode.NotAuthenticated, 401, message),
  wrongCredentials: () => new AppError(ErrorCode.NotAuthenticated, 401, '邮箱或密码错误'),
  wrongCode: () => new AppError(ErrorCode.NotAuthenticated, 401, '验证码错误或已过期'),
  codeExhausted: () =>
    new AppError(ErrorCode.TooManyRequests, 429, '验证码错误次数过多，请重新获取验证码'),
  forbidden: (message = '没有权限') => new AppError(ErrorCode.Forbidden, 403, message),
  notFound: (message = '资源不存在') => new AppError(ErrorCode.NotFound, 404, message),
  conflict: (field: string, message: string) => new AppError(ErrorCode.Conflict, 409, message, { field }),
  tooManyRequests: (retryAfterSeconds: number) =>
    new AppError(ErrorCode.TooManyRequests, 429, '请求过于频繁，请稍后再试', {
      retry_after_seconds: retryAfterSeconds,
    }),
  payloadTooLarge: (message = '请求体过大') => new AppError(ErrorCode.PayloadRejected, 413, message),
  unsupportedType: (message = '不支持的类型') => new AppError(ErrorCode.PayloadRejected, 415, message),
  serviceUnavailable: (message = '服务暂不可用') => new AppError(ErrorCode.ServiceUnavailable, 503, message),
  internal: () => new AppError(ErrorCode.Failure, 500, '服务器内部错误'),
};
