import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { print } from 'graphql';
import { pino, type Level, type Logger } from 'pino';
import { hashApiKey, type ApiKeyEntry } from '../../src/auth/api-keys.ts';
import { createAuthenticator, type AuthSettings } from '../../src/auth/authenticate.ts';
import type { ScopeName } from '../../src/auth/scopes.ts';
import type { EmulatorHarness } from 'wecom-emulator/testing';
import { CallbackSender } from '../helpers/callback-sender.ts';
import type { GraphQLResult, ServiceHarness } from '../helpers/service.ts';
import type { TypedResult } from '../testkit/execute.ts';

/** WeCom endpoints that change something (or spend an upload): none may be called by a refused request. */
const WRITE_PATH =
  /\/(create|update|delete|batchdelete|addtagusers|deltagusers|authsucc|invite|syncuser|replaceuser|replaceparty|upload|simple_user|export\/user|export\/department|export\/taguser|convert_to_openid)$/;

/** Upstream calls to write endpoints since the emulator's counters were last reset. */
export async function writeCalls(service: ServiceHarness): Promise<Record<string, number>> {
  const calls = await service.calls();
  return Object.fromEntries(Object.entries(calls).filter(([path]) => WRITE_PATH.test(path)));
}

/** A key of the test: the raw key a caller sends, and its entry as API_KEYS_FILE holds it. */
export interface TestKey {
  key: string;
  entry: ApiKeyEntry;
}

export function testKey(id: string, scopes: ScopeName[], departments?: number[]): TestKey {
  const key = `test-key-${id}-0123456789abcdef`;
  return { key, entry: { id, hash: hashApiKey(key), scopes, ...(departments ? { departments } : {}) } };
}

export const ALL: ScopeName[] = ['directory:read', 'directory:write', 'directory:pii', 'directory:admin'];

/** Security settings with only these keys (no anonymous access). */
export function keysOnly(keys: TestKey[], extra: Omit<AuthSettings, 'apiKeys'> = {}) {
  return { auth: createAuthenticator({ apiKeys: keys.map((k) => k.entry), ...extra }) };
}

export const withKey = (k: TestKey) => ({ 'x-api-key': k.key });

/** Ids of department `root` and of everything below it, from WeCom's department list: what a key limited to `root` sees. */
export function subtreeOf(departments: { id: number; parentid: number }[], root: number): Set<number> {
  const ids = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const d of departments) {
      if (!ids.has(d.id) && ids.has(d.parentid)) {
        ids.add(d.id);
        grew = true;
      }
    }
  }
  return ids;
}

/**
 * A GraphQL answer to a request whose text is under test (hostile input, limits), parsed from
 * JSON: its data by field name, its errors. (A batch is answered with an array, a body that is not
 * JSON with its text; the tests of those compare the whole body.)
 */
export interface Answer {
  data?: Record<string, unknown> | null;
  errors?: GraphQLResult['errors'];
}

/** An error as the service answers it, with its extensions (code, limit, cost …). */
export interface AnswerError {
  message: string;
  extensions: Record<string, unknown>;
}

/** The first error of an answer; the test fails naming the answer when it has none. */
export function firstError(answer: Pick<Answer, 'errors'>): AnswerError {
  const error = answer.errors?.[0];
  if (!error) throw new Error(`expected an error, got ${JSON.stringify(answer)}`);
  return { ...error, extensions: error.extensions ?? {} };
}

export async function jsonOf(res: Response): Promise<Answer> {
  return (await res.json()) as Answer;
}

/** POSTs a GraphQL request in-process and gives the status, headers and parsed body. */
export async function post(
  service: ServiceHarness,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Answer }> {
  const res = await service.app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed as Answer };
}

/**
 * POSTs a typed document (a `graphql(...)` call) like `post`, for tests that assert the HTTP
 * status or headers too: the body is typed by the document.
 */
export async function send<TData, TVariables>(
  service: ServiceHarness,
  document: TypedDocumentNode<TData, TVariables>,
  variables?: TVariables,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: TypedResult<TData> }> {
  const res = await post(service, { query: print(document), variables }, headers);
  // The service answers the shape of the document it was sent, which is what the document's type says.
  return { ...res, body: res.body as TypedResult<TData> };
}

/** A logger at `level` whose JSON lines are kept in `lines`, for tests that search what the service logged. */
export function loggerInto(lines: string[], level: Level): Logger {
  return pino(
    { level },
    new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    }),
  );
}

/** Signs change_contact callbacks as WeCom would for this emulator's corp (its callback Token and EncodingAESKey). */
export function senderFor(wecom: EmulatorHarness): CallbackSender {
  const { corpId, callback } = wecom.creds;
  return new CallbackSender({ token: callback.token, encodingAESKey: callback.encodingAESKey, corpId });
}

/**
 * Writes `text` to the listener at `url` over a raw socket and never finishes the request (a slow
 * or stalled client); resolves with everything the server sent before it closed the connection.
 */
export function answerToUnfinished(url: string, text: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}
