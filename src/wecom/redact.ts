/**
 * Keeps secrets and access tokens out of every error message, log line and metric label.
 * WeCom puts both in the query string (`gettoken?corpsecret=…`, `?access_token=…`), and transport
 * errors may quote a path, so text from outside the client is scrubbed twice: by parameter name,
 * and by the literal values the client knows (its secrets, and the tokens it has seen).
 */

const REDACTED = '[REDACTED]';
/** Query parameters that carry credentials. */
const CREDENTIAL_PARAM = /((?:access_token|corpsecret|secret)=)[^&\s"'#]*/gi;
/** Tokens remembered for literal scrubbing; WeCom issues one per secret every ~2 h. */
const MAX_REMEMBERED_TOKENS = 64;
/** Values shorter than this are not scrubbed literally: they would mangle ordinary words. */
const MIN_LITERAL_LENGTH = 8;

export class Redactor {
  private readonly secrets = new Set<string>();
  private readonly tokens: string[] = [];

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.addSecret(s);
  }

  addSecret(secret: string): void {
    if (secret.length >= MIN_LITERAL_LENGTH) this.secrets.add(secret);
  }

  addToken(token: string): void {
    if (token.length < MIN_LITERAL_LENGTH || this.tokens.includes(token)) return;
    this.tokens.push(token);
    if (this.tokens.length > MAX_REMEMBERED_TOKENS) this.tokens.shift();
  }

  /** The text with credential parameters and known secret/token values replaced. */
  redact(text: string): string {
    let out = text.replace(CREDENTIAL_PARAM, `$1${REDACTED}`);
    for (const value of this.secrets) out = out.split(value).join(REDACTED);
    for (const value of this.tokens) out = out.split(value).join(REDACTED);
    return out;
  }
}
