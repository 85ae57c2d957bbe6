import { z } from 'zod';

/**
 * Environment variable readers shared by every configuration module: each names its variable and
 * the expected form in its error, and treats an empty value as unset.
 */

/** An integer in [min, max]; `fallback` when unset. */
export const int = (name: string, fallback: number, min: number, max: number) =>
  z.preprocess(
    blankAsUnset,
    z.coerce
      .number({ error: `${name} must be an integer from ${min} to ${max}` })
      .int({ error: `${name} must be an integer from ${min} to ${max}`, abort: true })
      .min(min, { error: `${name} must be an integer from ${min} to ${max}` })
      .max(max, { error: `${name} must be an integer from ${min} to ${max}` })
      .default(fallback),
  );

/** A TCP port; `fallback` when unset. */
export const port = (name: string, fallback: number) =>
  z.preprocess(
    blankAsUnset,
    z.coerce
      .number({ error: `${name} must be a port number 0-65535` })
      .int({ error: `${name} must be a port number 0-65535`, abort: true })
      .min(0, { error: `${name} must be a port number 0-65535` })
      .max(65535, { error: `${name} must be a port number 0-65535` })
      .default(fallback),
  );

/** Trimmed text; undefined when unset or blank. */
export const text = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** "true"/"false" (or 1/0, exactly as written); undefined when unset, so a default can depend on other settings. */
export const optionalFlag = (name: string) =>
  z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .stringbool({ truthy: ['true', '1'], falsy: ['false', '0'], case: 'sensitive', error: `${name} must be "true" or "false"` })
      .optional(),
  );

/** "true"/"false" (or 1/0); `fallback` when unset. */
export const flag = (name: string, fallback: boolean) => optionalFlag(name).transform((v) => v ?? fallback);

/**
 * A rule "when this holds, NAME is wrong" (a variable that needs another, or a form a regex
 * cannot say); `requirements` checks them all, so every broken rule gets its own line.
 */
export interface Requirement<T> {
  when: (env: T) => boolean;
  variable: string;
  message: string | ((env: T) => string);
}

export function requirements<T>(rules: Requirement<T>[]) {
  return (env: T, ctx: z.RefinementCtx) => {
    for (const rule of rules) {
      if (!rule.when(env)) continue;
      ctx.addIssue({ code: 'custom', path: [rule.variable], message: typeof rule.message === 'string' ? rule.message : rule.message(env) });
    }
  };
}

function blankAsUnset(v: unknown): unknown {
  return typeof v === 'string' && v.trim() === '' ? undefined : v;
}
