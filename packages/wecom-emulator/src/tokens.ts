import { randomBytes } from 'node:crypto';
import type { Caller } from './model.ts';
import type { CorpStore } from './store.ts';
import type { Clock } from './clock.ts';
import { fail } from './errors.ts';
import { TOKEN_EXPIRES_IN_SECONDS } from 'wecom-protocol/limits';

interface IssuedToken {
  caller: Exclude<Caller, { kind: 'console' }>;
  expiresAtMs: number;
  /** Forced expiry (the `expireTokens` fault): answers 42001 like a timed-out token. */
  revoked: boolean;
}

/**
 * Access tokens per (corpid, secret). Within its validity a secret gets the same token back, as
 * the older docs describe (docs/wecom-api.md §1); after expiry or a forced expiry, a fresh one.
 */
export class TokenIssuer {
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly current = new Map<string, string>();
  issued = 0;

  constructor(
    private readonly store: CorpStore,
    private readonly clock: Clock,
  ) {}

  /** `GET /cgi-bin/gettoken`: 41004 before 41002 (observed order), then 40013, then 40001. */
  issue(corpid: string | null, corpsecret: string | null): { access_token: string; expires_in: number } {
    if (!corpsecret) throw fail(41004);
    if (!corpid) throw fail(41002);
    if (corpid !== this.store.corpId) throw fail(40013);
    const caller = this.callerForSecret(corpsecret);
    if (!caller) throw fail(40001);

    const key = `${corpid}\n${corpsecret}`;
    const existing = this.current.get(key);
    const now = this.clock.nowMs();
    const record = existing ? this.tokens.get(existing) : undefined;
    if (existing && record && !record.revoked && record.expiresAtMs > now) {
      return { access_token: existing, expires_in: Math.ceil((record.expiresAtMs - now) / 1000) };
    }
    const token = randomBytes(48).toString('base64url');
    this.tokens.set(token, { caller, expiresAtMs: now + TOKEN_EXPIRES_IN_SECONDS * 1000, revoked: false });
    this.current.set(key, token);
    this.issued++;
    return { access_token: token, expires_in: TOKEN_EXPIRES_IN_SECONDS };
  }

  /** Resolves `?access_token=`: 41001 missing, 40014 unknown, 42001 expired. */
  authenticate(token: string | null): IssuedToken['caller'] {
    if (!token) throw fail(41001);
    const record = this.tokens.get(token);
    if (!record) throw fail(40014);
    if (record.revoked || record.expiresAtMs <= this.clock.nowMs()) throw fail(42001);
    return record.caller;
  }

  /** Every token issued so far answers 42001 from now on. */
  expireAll(): void {
    for (const record of this.tokens.values()) record.revoked = true;
    this.current.clear();
  }

  clear(): void {
    this.tokens.clear();
    this.current.clear();
  }

  private callerForSecret(secret: string): IssuedToken['caller'] | undefined {
    if (secret === this.store.contactSecret) return { kind: 'contact' };
    const app = this.store.apps.find((a) => a.secret === secret);
    return app ? { kind: 'app', agentId: app.agentId } : undefined;
  }
}
