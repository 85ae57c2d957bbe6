import type { z } from 'zod';

/** The configuration cannot be used: the message has one "- NAME: what is wrong" line per problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** One "- NAME: what is wrong" line per zod issue (the path is the variable's name). */
export function problemLines(error: z.ZodError): string[] {
  return error.issues.map((i) => `- ${i.path.join('.')}: ${i.message}`);
}

/** The ConfigError for `problems` (each already a "- NAME: …" line). */
export function configError(problems: string[]): ConfigError {
  return new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
}
