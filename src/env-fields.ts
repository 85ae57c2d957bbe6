import { z } from 'zod';

/**
 * Environment variable readers shared by every configuration module: each names its variable and
 * the expected form in its error, and treats an empty value as unset.
 */

/** An integer in [min, max]; `fallback` when unset. */
export const int = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

/** A TCP port; `fallback` when unset. */
export const port = (name: string, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a port number 0-65535` });
        return z.NEVER;
      }
      return n;
    });

/** Trimmed text; undefined when unset or blank. */
export const text = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const BOOLEAN = ['true', 'false', '1', '0', ''] as const;

/** "true"/"false" (or 1/0); undefined when unset, so a default can depend on other settings. */
export const optionalFlag = (name: string) =>
  z
    .enum(BOOLEAN, { message: `${name} must be "true" or "false"` })
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v === 'true' || v === '1'));

/** "true"/"false" (or 1/0); `fallback` when unset. */
export const flag = (name: string, fallback: boolean) => optionalFlag(name).transform((v) => v ?? fallback);
