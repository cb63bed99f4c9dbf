import type { Middleware } from 'koa';
import { AppError, errors } from '@im/protocol';
import { isMysqlUnavailable } from '@im/db';
import type { Logger } from '@im/logger';

/**
 * Turns every failure into the contract's envelope. AppErrors are shown as they are; errors from
 * the body parser are mapped to their codes; anything else is logged once and shown as a bare 500
 * with no stack or SQL.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const appError = toAppError(err);
      if (appError.status >= 500) {
        logger.error({ err: describe(err), method: ctx.method, path: ctx.path }, 'request failed');
      }
      ctx.status = appError.status;
      if (appError.status === 429 && typeof appError.details.retry_after_seconds === 'number') {
        ctx.set('Retry-After', String(appError.details.retry_after_seconds));
      }
      ctx.body = { code: appError.code, data: appError.details, msg: appError.message };
    }
  };
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const status = (err as { status?: number }).status;
  if (status === 413) return errors.payloadTooLarge();
  if (status === 415) return errors.unsupportedType('不支持的 Content-Type');
  if (status === 400) return errors.malformedJson();
  if (isBackingServiceDown(err)) return errors.serviceUnavailable();
  return errors.internal();
}

/**
 * Connection-level failures of MySQL or Redis, and their deadlines: the client should retry, not
 * report a bug. Prisma may wrap the driver's error, hence the look at the text too.
 */
function isBackingServiceDown(err: unknown): boolean {
  if (isMysqlUnavailable(err)) return true;
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? ''} ${(err as { code?: string })?.code ?? ''}`;
  return /ECONNREFUSED|ETIMEDOUT|ECONNRESET|Connection is closed|pool timeout|acquire|ER_GET_CONNECTION_TIMEOUT|DatabaseNotReachable|P1001|MaxRetriesPerRequest|Command timed out|did not answer within|socket timeout|Connection timeout/i.test(
    text,
  );
}

function describe(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { value: String(err) };
}
