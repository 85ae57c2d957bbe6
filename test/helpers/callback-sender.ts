import { randomBytes } from 'node:crypto';
import * as official from '@wecom/crypto';

export interface SignedRequest {
  query: { msg_signature: string; timestamp: string; nonce: string; echostr?: string };
  body: string;
}

export interface SenderOptions {
  token: string;
  encodingAESKey: string;
  corpId: string;
}

/**
 * Builds callback requests as WeCom sends them (docs/wecom-api.md §9.2, §9.3), with the official
 * `@wecom/crypto` package rather than the code under test, and lets a test forge every part.
 */
export class CallbackSender {
  constructor(readonly options: SenderOptions) {}

  /** `<xml>` with CDATA text, like WeCom's events. */
  static xml(fields: Record<string, string | number>): string {
    const inner = Object.entries(fields)
      .map(([k, v]) => (typeof v === 'number' ? `<${k}>${v}</${k}>` : `<${k}><![CDATA[${v}]]></${k}>`))
      .join('');
    return `<xml>${inner}</xml>`;
  }

  /** A change_contact event's plaintext XML with the common header. */
  changeContact(changeType: string, fields: Record<string, string | number>, createTime = nowSeconds()): string {
    return CallbackSender.xml({
      ToUserName: this.options.corpId,
      FromUserName: 'sys',
      CreateTime: createTime,
      MsgType: 'event',
      Event: 'change_contact',
      ChangeType: changeType,
      ...fields,
    });
  }

  /** An event POST: encrypt (for `receiveId`, the corp id by default), wrap, sign. */
  post(
    message: string,
    forge: { timestamp?: number; token?: string; encodingAESKey?: string; receiveId?: string; signature?: string; nonce?: string } = {},
  ): SignedRequest {
    const encrypted = official.encrypt(
      forge.encodingAESKey ?? this.options.encodingAESKey,
      message,
      forge.receiveId ?? this.options.corpId,
      randomBytes(16),
    );
    return this.envelope(encrypted, forge);
  }

  /** The outer envelope around a given Encrypt value, signed over it. */
  envelope(encrypted: string, forge: { timestamp?: number; token?: string; signature?: string; nonce?: string } = {}): SignedRequest {
    const timestamp = String(forge.timestamp ?? nowSeconds());
    const nonce = forge.nonce ?? String(1_000_000_000 + Math.floor(Math.random() * 8_999_999_999));
    const signature = forge.signature ?? official.getSignature(forge.token ?? this.options.token, timestamp, nonce, encrypted);
    const body = `<xml><ToUserName><![CDATA[${this.options.corpId}]]></ToUserName><AgentID><![CDATA[]]></AgentID><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`;
    return { query: { msg_signature: signature, timestamp, nonce }, body };
  }

  /** A URL verification GET. */
  verification(
    plaintext: string,
    forge: { timestamp?: number; token?: string; receiveId?: string; signature?: string } = {},
  ): SignedRequest {
    const echostr = official.encrypt(this.options.encodingAESKey, plaintext, forge.receiveId ?? this.options.corpId);
    const timestamp = String(forge.timestamp ?? nowSeconds());
    const nonce = '1372623149';
    const signature = forge.signature ?? official.getSignature(forge.token ?? this.options.token, timestamp, nonce, echostr);
    return { query: { msg_signature: signature, timestamp, nonce, echostr }, body: '' };
  }
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Sends a request to the service's /wecom/callback over a real socket. */
export async function send(
  baseUrl: string,
  request: SignedRequest,
  method: 'GET' | 'POST' | 'PUT' = 'POST',
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const url = new URL('/wecom/callback', baseUrl);
  for (const [k, v] of Object.entries(request.query)) if (v !== undefined) url.searchParams.set(k, v);
  const res = await fetch(url, {
    method,
    headers: method === 'GET' ? headers : { 'content-type': 'text/xml', ...headers },
    ...(method === 'GET' ? {} : { body: request.body }),
  });
  return { status: res.status, text: await res.text() };
}
