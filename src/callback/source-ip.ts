import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import proxyaddr from 'proxy-addr';

/**
 * Where `/wecom/callback` requests may come from (WECOM_CALLBACK_ALLOWED_IPS): WeCom publishes
 * the addresses its callbacks come from (`getcallbackip`, docs/wecom-api.md §14). The signature already
 * proves a request was sealed with our Token; the address check is a second line for when the
 * Token leaks (a leaked Token and EncodingAESKey let anyone forge events otherwise).
 */

/** `getcallbackip`'s list changes over time: re-read it this often (the fact sheet: "e.g. daily"). */
export const CALLBACK_IPS_REFRESH_MS = 24 * 60 * 60 * 1000;
/** After a failed read of the list, the next request tries again after this long at the earliest. */
export const CALLBACK_IPS_RETRY_MS = 60 * 1000;

/** `auto`: WeCom's own list, re-read daily; `list`: the configured ranges only. */
export type AllowedCallbackIps = { mode: 'auto' } | { mode: 'list'; ranges: string[] };

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * One allowed range: CIDR (`101.226.103.0/24`, `2400:da00::/32`), a single address, or WeCom's
 * wildcard form (`101.226.103.*`: `*` stands for whole octets at the end). Throws naming the entry.
 */
export function parseRange(entry: string): Range {
  const text = entry.trim();
  const wildcard = /^(\d{1,3}(?:\.\d{1,3}){0,3})((?:\.\*)+)$/.exec(text);
  if (wildcard) {
    const fixed = wildcard[1]!.split('.');
    const stars = wildcard[2]!.length / 2;
    if (fixed.length + stars !== 4) throw new Error(`"${entry}" is not an IPv4 pattern (four parts, * only at the end)`);
    return parseRange(`${[...fixed, ...Array<string>(stars).fill('0')].join('.')}/${fixed.length * 8}`);
  }
  try {
    if (text.includes('/')) {
      const [address, bits] = ipaddr.parseCIDR(text);
      // ::ffff:a.b.c.d/104 is the IPv4 range a.b.c.d/8; wider than /96 it stays an IPv6 range.
      const mapped = address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96;
      return mapped ? [unmapped(address), bits - 96] : [address, bits];
    }
    const address = unmapped(ipaddr.parse(text));
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    throw new Error(`"${entry}" is not an IP address, a CIDR range or a pattern like 101.226.103.*`);
  }
}

/** IPv4-mapped IPv6 (`::ffff:127.0.0.1`, how a dual-stack socket reports IPv4) as IPv4. */
function unmapped(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

const entriesOf = (text: string) => text.split(/[\s,]+/).filter(Boolean);

/** WECOM_CALLBACK_ALLOWED_IPS: `auto`, or ranges separated by commas or spaces. Throws naming the bad entry. */
export function parseAllowedCallbackIps(text: string): AllowedCallbackIps {
  if (text.trim().toLowerCase() === 'auto') return { mode: 'auto' };
  const ranges = entriesOf(text);
  if (!ranges.length) throw new Error('must be "auto" or a list of addresses or CIDR ranges');
  for (const r of ranges) parseRange(r);
  return { mode: 'list', ranges };
}

/** TRUSTED_PROXIES: addresses or CIDR ranges of the reverse proxies in front of the service. */
export function parseTrustedProxies(text: string): string[] {
  const entries = entriesOf(text);
  for (const e of entries) {
    if (!ipaddr.isValid(e) && !ipaddr.isValidCIDR(e)) throw new Error(`"${e}" is not an IP address or a CIDR range`);
  }
  return entries;
}

export interface CallbackSourceOptions {
  allowed: AllowedCallbackIps;
  /** Proxies whose X-Forwarded-For is believed; from anyone else the header is ignored. */
  trustedProxies?: readonly string[];
  /** Reads WeCom's list (`client.corp.getCallbackIp`), for `auto`. */
  fetchList?: () => Promise<string[]>;
  logger?: { warn(obj: object, msg: string): void };
  now?: () => number;
}

/** The answer for one request: allowed, refused, or unknown (`auto` before WeCom's list could be read). */
export type SourceVerdict = 'allowed' | 'refused' | 'unavailable';

export class CallbackSourceCheck {
  private readonly trust: (address: string, hop: number) => boolean;
  private ranges: Range[] | undefined;
  private loadedAt = -Infinity;
  private failedAt = -Infinity;
  private loading: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: CallbackSourceOptions) {
    this.trust = proxyaddr.compile([...(options.trustedProxies ?? [])]);
    this.now = options.now ?? Date.now;
    if (options.allowed.mode === 'list') this.ranges = options.allowed.ranges.map(parseRange);
    if (options.allowed.mode === 'auto' && !options.fetchList)
      throw new Error('WECOM_CALLBACK_ALLOWED_IPS=auto needs a WeCom client to read getcallbackip');
  }

  /**
   * The address a request comes from: the socket's, or, when the socket is a trusted proxy, the
   * nearest untrusted address in X-Forwarded-For (proxy-addr walks the chain from the right).
   */
  clientAddress(req: IncomingMessage): string {
    return proxyaddr(req, this.trust);
  }

  async verdict(req: IncomingMessage): Promise<SourceVerdict> {
    const ranges = await this.currentRanges();
    if (!ranges) return 'unavailable';
    let address: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      address = unmapped(ipaddr.parse(this.clientAddress(req)));
    } catch {
      return 'refused';
    }
    return ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits)) ? 'allowed' : 'refused';
  }

  /** The configured ranges, or WeCom's list, read when older than a day (one read at a time). */
  private async currentRanges(): Promise<Range[] | undefined> {
    if (this.options.allowed.mode === 'list') return this.ranges;
    const now = this.now();
    const stale = now - this.loadedAt >= CALLBACK_IPS_REFRESH_MS;
    const mayRetry = now - this.failedAt >= CALLBACK_IPS_RETRY_MS;
    if (stale && mayRetry) {
      this.loading ??= this.load().finally(() => (this.loading = undefined));
      // A stale list keeps serving while the new one loads; only the first load is waited for.
      if (!this.ranges) await this.loading;
    }
    return this.ranges;
  }

  private async load(): Promise<void> {
    try {
      const list = await this.options.fetchList!();
      const ranges: Range[] = [];
      for (const entry of list) {
        try {
          ranges.push(parseRange(entry));
        } catch {
          this.options.logger?.warn({ entry }, 'getcallbackip answered an entry that is not an address or pattern; skipped');
        }
      }
      this.ranges = ranges;
      this.loadedAt = this.now();
    } catch (err) {
      this.failedAt = this.now();
      const errcode = typeof (err as { errcode?: unknown }).errcode === 'number' ? (err as { errcode: number }).errcode : undefined;
      this.options.logger?.warn(
        { errcode, kept: this.ranges !== undefined },
        'reading getcallbackip failed; WeCom callbacks are checked against the last list read, or refused with 503 until one is read',
      );
    }
  }
}
