import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';

/**
 * The node:http listener's own limits: how long a client may take to send its headers and its
 * whole request (slow-loris), how long an idle keep-alive connection stays open, and how large
 * the headers may be. Responses are not limited: subscriptions stream for as long as they last.
 */
export interface ServerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /**
   * How often node checks the two timeouts above. Node's default, 30 s, let a client hold a
   * connection's headers open ~30 s whatever HTTP_HEADERS_TIMEOUT_MS said; by default a quarter
   * of the headers timeout, between 100 ms and 1 s.
   */
  checkIntervalMs?: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = {
  headersTimeoutMs: 10_000,
  // A 20 MB upload at 2 Mbit/s takes 80 s.
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
};

/** Headers larger than this are refused by node (431). */
export const MAX_HEADER_BYTES = 16 * 1024;

export function serverOptions(t: ServerTimeouts = DEFAULT_SERVER_TIMEOUTS): ServerOptions {
  return {
    headersTimeout: Math.min(t.headersTimeoutMs, t.requestTimeoutMs),
    requestTimeout: t.requestTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    maxHeaderSize: MAX_HEADER_BYTES,
    connectionsCheckingInterval: t.checkIntervalMs ?? Math.max(100, Math.min(1_000, Math.floor(t.headersTimeoutMs / 4))),
  };
}

/**
 * A request body sent without Content-Length (chunked) cannot be measured before it is read:
 * such requests get 411, so the body limits (413) always apply before anything is read.
 * Returns true when it answered.
 */
export function refuseUnmeasuredBody(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] === undefined) return false;
  res.writeHead(411, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(
    JSON.stringify({
      errors: [
        {
          message: 'Send the request body with a Content-Length header (chunked bodies are not accepted)',
          extensions: { code: 'LENGTH_REQUIRED' },
        },
      ],
    }),
  );
  return true;
}
