import { builder } from './builder.ts';
import { WeComApiError, WeComOutcomeUnknownError, categoryOf, meaningOf } from '../wecom/errors.ts';
import type { Scopes } from '../auth/scopes.ts';

/**
 * Typed mutation failures (Pothos errors plugin): every mutation's result is a union of its
 * Success type and these, all implementing `interface Error { message }`. WeCom's refusals are
 * mapped by category (src/wecom/errors.ts); the service's own input checks are ValidationErrors
 * too. Anything else (WeCom unreachable, a bug) still becomes a GraphQL error, masked as usual.
 * Messages never carry WeCom's raw errmsg (it names the server's IP) nor any token.
 */

/** Base of the typed failures: the mutation did not do what was asked (nothing changed, or see OutcomeUnknownError). */
export abstract class MutationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input breaks a rule: checked by the service before any upstream call, or refused by WeCom. */
export class ValidationError extends MutationError {
  constructor(
    /** The argument at fault, as a path: `input.userid`, `rows[3].mobile`, `userids`. */
    readonly field: string,
    message: string,
    /** WeCom's errcode when WeCom refused it; null for the service's own checks (no quota spent). */
    readonly errcode: number | null = null,
  ) {
    super(message);
  }
}

export class NotFoundError extends MutationError {
  constructor(
    message: string,
    readonly errcode: number | null = null,
  ) {
    super(message);
  }
}

/** The userid, mobile, email, department or tag name is taken. */
export class AlreadyExistsError extends MutationError {
  constructor(
    /** The argument holding the taken value (`input` when WeCom's errcode does not say which). */
    readonly field: string,
    message: string,
    readonly errcode: number,
  ) {
    super(message);
  }
}

/**
 * The directory's state forbids it: a department still has members, a limit is reached, an import
 * is running; or, for a caller who may not learn which, a value is taken (errcode null: see
 * RefusalDetail).
 */
export class ConflictError extends MutationError {
  constructor(
    message: string,
    readonly errcode: number | null,
  ) {
    super(message);
  }
}

/** This service's secret may not do this (48002), or the target is outside its reach (60011, 81011 …). */
export class PermissionDeniedError extends MutationError {
  constructor(
    message: string,
    /** null when the service refused before asking WeCom (a credential limited to departments, src/schema/scope-guards.ts). */
    readonly errcode: number | null,
  ) {
    super(message);
  }
}

/** WeCom's frequency or concurrency limit (45009 / 45033), after the client's own waiting. */
export class RateLimitedError extends MutationError {
  constructor(
    message: string,
    readonly errcode: number,
    readonly retryAfterSeconds: number | null,
  ) {
    super(message);
  }
}

/**
 * The write was sent, its answer was lost, and reading back could not show it applied. It was
 * not resent. `readBack`: NOT_APPLIED (no trace of it yet) or UNVERIFIABLE.
 */
export class OutcomeUnknownError extends MutationError {
  constructor(
    message: string,
    readonly readBack: 'NOT_APPLIED' | 'UNVERIFIABLE',
  ) {
    super(message);
  }
}

/** Any other refusal by WeCom, with its errcode (GraphQL name `WeComError`). */
export class UpstreamRefusedError extends MutationError {
  constructor(
    message: string,
    readonly errcode: number,
  ) {
    super(message);
  }
}

// ── GraphQL types ───────────────────────────────────────────────────────────

export const ErrorInterface = builder.interfaceRef<MutationError>('Error').implement({
  description: 'A mutation that failed in an expected way; the specific type says how.',
  fields: (t) => ({
    message: t.exposeString('message', {
      description:
        'What went wrong, in words fit to show an administrator; names the WeCom endpoint and errcode when WeCom refused. Never contains a token.',
    }),
  }),
});

/**
 * `errcode` is nullable on every error type, and `field` non-null where it exists, so that one
 * client fragment can select them across the types (GraphQL requires the same response shape).
 */
const errcodeField = { nullable: true, description: "WeCom's errcode, when WeCom refused the call." } as const;

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input breaks a rule. Checked before any WeCom call where the rule is documented (no quota spent; errcode null).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    field: t.exposeString('field', { description: 'The argument at fault, e.g. `input.userid` or `rows[3].mobile`.' }),
    errcode: t.exposeInt('errcode', errcodeField),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'The user, department, tag or job does not exist (or is not visible to this service).',
  interfaces: [ErrorInterface],
  fields: (t) => ({ errcode: t.exposeInt('errcode', errcodeField) }),
});

builder.objectType(AlreadyExistsError, {
  name: 'AlreadyExistsError',
  description: 'The userid, mobile, email, department or tag name is already taken.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    field: t.exposeString('field', { description: 'The argument holding the taken value (`input` when WeCom does not say which).' }),
    errcode: t.exposeInt('errcode', errcodeField),
  }),
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  description:
    'The directory is in a state that forbids this (a department still has members, a limit is reached, an import is running). ' +
    'A caller without directory:read, directory:pii and the whole corp gets this, with errcode null, for any conflict of createUser, updateUser, createDepartment and updateDepartment, a taken userid, mobile, email or department name included: it does not say which.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ errcode: t.exposeInt('errcode', errcodeField) }),
});

builder.objectType(PermissionDeniedError, {
  name: 'PermissionDeniedError',
  description: "This service's WeCom secret may not do this, or the target is outside its reach (e.g. a tag another app created).",
  interfaces: [ErrorInterface],
  fields: (t) => ({ errcode: t.exposeInt('errcode', errcodeField) }),
});

builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  description: "WeCom's frequency (45009) or concurrency (45033) limit; nothing was changed.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    errcode: t.exposeInt('errcode', errcodeField),
    retryAfterSeconds: t.exposeInt('retryAfterSeconds', {
      nullable: true,
      description: 'How long the limit lasts, when WeCom documents it.',
    }),
  }),
});

const ReadBackOutcome = builder.enumType('ReadBackOutcome', {
  description: 'What reading the entity back showed after a write whose answer was lost (OutcomeUnknownError.readBack).',
  values: {
    NOT_APPLIED: { description: 'Reading back showed no trace of the write (it may still land).' },
    UNVERIFIABLE: { description: 'The write cannot be read back, or reading back failed.' },
  } as const,
});

builder.objectType(OutcomeUnknownError, {
  name: 'OutcomeUnknownError',
  description: 'The write was sent but its answer was lost; it was not resent. Read the entity before retrying.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    readBack: t.field({
      type: ReadBackOutcome,
      description: 'What reading the entity back showed: no trace of the write yet, or nothing that could tell.',
      resolve: (e) => e.readBack,
    }),
  }),
});

builder.objectType(UpstreamRefusedError, {
  name: 'WeComError',
  description: 'Another refusal by WeCom, one the other error types do not cover; `errcode` says which (see WeCom’s global error codes).',
  interfaces: [ErrorInterface],
  fields: (t) => ({ errcode: t.exposeInt('errcode', errcodeField) }),
});

/** The error types every mutation result may hold, by their GraphQL names. */
const MUTATION_ERROR_TYPES = {
  ValidationError,
  NotFoundError,
  AlreadyExistsError,
  ConflictError,
  PermissionDeniedError,
  RateLimitedError,
  OutcomeUnknownError,
  WeComError: UpstreamRefusedError,
};

export const MUTATION_ERRORS = Object.values(MUTATION_ERROR_TYPES);

/** The GraphQL names of MUTATION_ERRORS, as the result unions' descriptions list them ("A, B or C"). */
const MUTATION_ERROR_NAMES = ((names: string[]) => `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`)(
  Object.keys(MUTATION_ERROR_TYPES),
);

/**
 * The `errors` option of a mutation field: the typed failures above, and what the types the errors
 * plugin generates for it say in GraphiQL: `Mutation<Name>Result` (the union), `Mutation<Name>Success`
 * and its `data` field. `succeeded` completes "when …"; `data` describes the payload.
 */
export function mutationErrors(field: string, docs: { succeeded: string; data: string }) {
  const success = `Mutation${field.charAt(0).toUpperCase()}${field.slice(1)}Success`;
  return {
    types: MUTATION_ERRORS,
    union: {
      description: `What \`${field}\` returned: \`${success}\` when ${docs.succeeded}; otherwise a type implementing \`Error\` (${MUTATION_ERROR_NAMES}) saying why not.`,
    },
    result: { description: `\`${field}\` succeeded: ${docs.succeeded}. The payload is under \`data\`.` },
    dataField: { description: docs.data },
  };
}

// ── mapping WeCom's failures ────────────────────────────────────────────────

/** Conflicts that mean "taken": the rest of the conflict category becomes ConflictError. */
const ALREADY_EXISTS_ERRCODES: ReadonlySet<number> = new Set([60102, 60104, 60106, 60008, 40071]);

/** Which argument an errcode is about, per mutation group (`input.` paths of that group's inputs). */
export type ErrcodeFields = Readonly<Record<number, string>>;

/**
 * How much a refusal of a member or department write may say. WeCom checks a userid, mobile,
 * email or department id across the whole corp, and a department name among siblings that may be
 * outside a caller's subtrees, so "mobile already exists" answers "does someone have this
 * number?" and "department already exists" names a department the caller cannot see.
 * - `precise`: the typed error, the argument and WeCom's errcode (today's answers).
 * - `concealed`: every conflict becomes the same ConflictError (errcode null, no argument, no
 *   value), whether a value is taken, inside or outside the caller's view, or a limit is reached;
 *   and no refusal quotes WeCom's errmsg (it may name the member or department in the way).
 */
export type RefusalDetail = 'precise' | 'concealed';

/**
 * Precise only for a caller who could read everything a precise refusal tells: the whole corp's
 * members with their personal data (directory:read and directory:pii, no department limits).
 */
export function refusalDetailFor(scopes: Scopes): RefusalDetail {
  return scopes.read && scopes.pii && scopes.wholeCorp ? 'precise' : 'concealed';
}

/**
 * What WeCom said, in our words: its meaning from the errcode table, else (precise only) its errmsg
 * without the IP-bearing suffix.
 */
function describe(error: WeComApiError, detail: RefusalDetail): string {
  const said = detail === 'precise' ? error.errmsg.split(/, hint:|, from ip:/)[0] : '';
  const meaning = meaningOf(error.errcode)?.meaning ?? (said || 'request refused');
  return `WeCom refused ${error.endpoint}: ${meaning} (errcode ${error.errcode})`;
}

/** What a concealed caller is told of any conflict (of a write, or of an import's record): no argument, value or errcode. */
export const CONCEALED_CONFLICT =
  'conflicts with the directory (a value already in use, or a limit reached); this credential may not learn which (that needs directory:read and directory:pii without department limits)';

/** The one answer a concealed caller gets for every conflict of a write. */
function concealedConflict(endpoint: string | undefined): ConflictError {
  return new ConflictError(`WeCom refused ${endpoint ?? 'the write'}: the write ${CONCEALED_CONFLICT}`, null);
}

/** Whether a WeCom errcode is a conflict this caller may not learn the cause of (see RefusalDetail). */
export function concealsConflict(errcode: number, scopes: Scopes): boolean {
  return categoryOf(errcode) === 'conflict' && refusalDetailFor(scopes) === 'concealed';
}

/** A WeCom failure as a typed mutation error; anything else is returned as it is (and thrown by the caller). */
export function asMutationError(err: unknown, fields: ErrcodeFields = {}, detail: RefusalDetail = 'precise'): unknown {
  if (err instanceof MutationError) return err;
  if (err instanceof WeComOutcomeUnknownError) {
    return new OutcomeUnknownError(
      `WeCom ${err.endpoint}: the write was sent but its answer was lost (${err.reason}); ${err.readBack === 'not-applied' ? 'reading back shows no trace of it yet' : 'it could not be read back'}. It was not resent.`,
      err.readBack === 'not-applied' ? 'NOT_APPLIED' : 'UNVERIFIABLE',
    );
  }
  if (!(err instanceof WeComApiError)) return err;
  const message = describe(err, detail);
  switch (err.category) {
    case 'invalid-input':
      return new ValidationError(fields[err.errcode] ?? 'input', message, err.errcode);
    case 'not-found':
      return new NotFoundError(message, err.errcode);
    case 'conflict':
      if (detail === 'concealed') return concealedConflict(err.endpoint);
      return ALREADY_EXISTS_ERRCODES.has(err.errcode)
        ? new AlreadyExistsError(fields[err.errcode] ?? 'input', message, err.errcode)
        : new ConflictError(message, err.errcode);
    case 'permission':
      return new PermissionDeniedError(message, err.errcode);
    case 'rate-limit':
      // A minute-level 45009 block lasts 60 s (§11); 45033 clears as calls finish.
      return new RateLimitedError(message, err.errcode, err.errcode === 45009 ? 60 : null);
    default:
      return new UpstreamRefusedError(message, err.errcode);
  }
}

/**
 * Runs a mutation's work, turning WeCom's refusals into typed errors (`fields` names the argument
 * per errcode; `detail` says how much the caller may learn from them, see RefusalDetail).
 */
export async function mutating<T>(fields: ErrcodeFields, work: () => Promise<T>, detail: RefusalDetail = 'precise'): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asMutationError(err, fields, detail);
  }
}
