import type { z } from 'zod';
import { errors } from '@im/protocol';

/**
 * Parses input with a zod schema; failures become the contract's 1002 with every problem listed
 * by field, so a client can show them next to the inputs.
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    field: issue.path.join('.') || '(body)',
    message: issue.message,
  }));
  const first = problems[0]!;
  throw errors.invalidParameter(`参数错误: ${first.field}: ${first.message}`, { errors: problems });
}
