import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as official from '@wecom/crypto';
import { XMLParser } from 'fast-xml-parser';

export interface Received {
  method: string;
  url: URL;
  body: string;
  /** Milliseconds since the receiver started: for checking pauses between attempts. */
  at: number;
}

export interface Answer {
  status?: number;
  body?: string;
  /** Holds the answer back this long (a stalled receiver). */
  delayMs?: number;
}

/** Decides the answer to the n-th request (0-based) of its method. */
export type Behaviour = (req: Received, n: number) => Answer;

/** Values only as strings: the tests compare text exactly, as a receiver would read it. */
const parser = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'Item' });

export interface OpenedEvent {
  /** The outer envelope: ToUserName, AgentID, Encrypt. */
  outer: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: event XML varies by ChangeType; tests assert it field by field
  event: Record<string, any>;
  /** The raw decrypted XML. */
  xml: string;
}

/**
 * A WeCom callback receiver on a real socket, built on the official `@wecom/crypto` package (not on
 * the code under test): it answers URL verification like a correct receiver, records every request,
 * and lets a test choose status codes and stalls.
 */
export class CallbackReceiver {
  readonly requests: Received[] = [];
  onGet: Behaviour = (req) => this.echo(req);
  onPost: Behaviour = () => ({ status: 200, body: 'success' });
  private server?: Server;
  private readonly started = Date.now();
  private waiters: { method: string; count: number; resolve: () => void }[] = [];
  private readonly pending = new Set<ServerResponse>();
  private counts = { GET: 0, POST: 0 } as Record<string, number>;

  constructor(
    public token: string,
    public encodingAESKey: string,
    public corpId: string,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
  }

  get url(): string {
    const a = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${a.port}/wecom/callback`;
  }

  /** Forgets requests and restores the well-behaved default answers. */
  reset(): void {
    this.requests.length = 0;
    this.counts = { GET: 0, POST: 0 };
    this.onGet = (req) => this.echo(req);
    this.onPost = () => ({ status: 200, body: 'success' });
  }

  async close(): Promise<void> {
    for (const res of this.pending) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  posts(): Received[] {
    return this.requests.filter((r) => r.method === 'POST');
  }

  gets(): Received[] {
    return this.requests.filter((r) => r.method === 'GET');
  }

  /** Resolves once `count` requests of `method` have arrived (fails the test after `timeoutMs`). */
  async waitFor(method: 'GET' | 'POST', count: number, timeoutMs = 5_000): Promise<Received[]> {
    const list = () => this.requests.filter((r) => r.method === method);
    if (list().length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${list().length} of ${count} ${method} requests arrived`)), timeoutMs);
        this.waiters.push({ method, count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    }
    return list();
  }

  /** The correct answer to URL verification: check the signature, decrypt, echo the plaintext. */
  echo(req: Received): Answer {
    const q = req.url.searchParams;
    const echostr = q.get('echostr') ?? '';
    if (official.getSignature(this.token, q.get('timestamp') ?? '', q.get('nonce') ?? '', echostr) !== q.get('msg_signature')) {
      return { status: 403, body: 'bad signature' };
    }
    const { message, id } = official.decrypt(this.encodingAESKey, echostr);
    if (id !== this.corpId) return { status: 403, body: 'wrong corp' };
    return { status: 200, body: message };
  }

  /** Checks an event POST as a receiver must (signature over Encrypt, receiveid) and decrypts it. */
  open(req: Received): OpenedEvent {
    const q = req.url.searchParams;
    const outer = parser.parse(req.body).xml as Record<string, string>;
    const expected = official.getSignature(this.token, q.get('timestamp') ?? '', q.get('nonce') ?? '', outer['Encrypt'] ?? '');
    if (expected !== q.get('msg_signature')) throw new Error('event signature does not verify');
    const { message, id } = official.decrypt(this.encodingAESKey, outer['Encrypt'] ?? '');
    if (id !== this.corpId) throw new Error(`event sealed for ${id}, not ${this.corpId}`);
    return { outer, event: parser.parse(message).xml, xml: message };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const received: Received = {
      method: req.method ?? 'GET',
      url: new URL(req.url ?? '/', 'http://receiver'),
      body: Buffer.concat(chunks).toString('utf8'),
      at: Date.now() - this.started,
    };
    this.requests.push(received);
    const n = this.counts[received.method] ?? 0;
    this.counts[received.method] = n + 1;
    for (const w of [...this.waiters]) {
      if (this.requests.filter((r) => r.method === w.method).length >= w.count) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    const answer = (received.method === 'GET' ? this.onGet : this.onPost)(received, n);
    const reply = () => {
      this.pending.delete(res);
      if (res.destroyed) return;
      res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain' });
      res.end(answer.body ?? '');
    };
    if (answer.delayMs) {
      this.pending.add(res);
      setTimeout(reply, answer.delayMs);
    } else {
      reply();
    }
  }
}
