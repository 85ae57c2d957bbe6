import type { ChangeEvent } from './routes/types.ts';
import type { CallbackSettings } from './seed.ts';
import type { Clock } from './clock.ts';
import type { CallbackFieldSet, EmulatorOptions } from './options.ts';
import { type DeliveryTiming, type XmlFields, type XmlValue, deliverEvent, verifyCallbackUrl } from './callback-delivery.ts';

export { deliverEvent, verifyCallbackUrl, buildXml } from './callback-delivery.ts';
export type { EventDelivery, DeliveryOutcome, XmlFields } from './callback-delivery.ts';

/**
 * Contacts-sync `change_contact` callbacks (docs/wecom-api.md §9.6): every change made in the admin
 * console (the emulator's console endpoints) is rendered as WeCom's event XML and delivered to the
 * configured URL, one event per request, in order, without holding up the API response. Changes
 * made by the contacts-sync token's own API calls are never delivered (the Emulator only passes
 * console events to its sinks), as in WeCom.
 */

/** What the callbacks need from the Emulator (it passes itself). */
export interface CallbackHost {
  callbackUrl: string | null;
  callbackSettings: CallbackSettings;
  readonly store: { readonly corpId: string };
  readonly clock: Clock;
  readonly options: EmulatorOptions;
}

export type DeliveryStatus = 'pending' | 'delivering' | 'delivered' | 'failed' | 'dropped';

export interface DeliveryRecord {
  seq: number;
  changeType: ChangeEvent['ChangeType'];
  createTime: number;
  attempts: number;
  status: DeliveryStatus;
  /** HTTP status of the last attempt (null: none yet, or no answer in time). */
  httpStatus: number | null;
  error?: string;
}

/** The admin API keeps the latest deliveries only. */
const DELIVERY_LOG_MAX = 500;

/**
 * The post-2022-08-15 field sets (§2, §9.6): for callback URLs set after that date, member events
 * carry only UserID (NewUserID on a userid change) and Department; department events only Id and
 * ParentId; tag events are unchanged.
 */
const REDUCED_FIELDS: Record<ChangeEvent['ChangeType'], readonly string[] | null> = {
  create_user: ['UserID', 'Department'],
  update_user: ['UserID', 'NewUserID', 'Department'],
  delete_user: ['UserID'],
  create_party: ['Id', 'ParentId'],
  update_party: ['Id', 'ParentId'],
  delete_party: ['Id'],
  update_tag: null,
};

/**
 * The decrypted XML of one `change_contact` event: the common header, then the event's fields in
 * the order the route emitted them. `null` when the reduced field set suppresses the event
 * (`update_party` without a parent change).
 */
export function renderChangeContact(
  event: ChangeEvent,
  header: { corpId: string; createTime: number },
  fieldSet: CallbackFieldSet,
): XmlFields | null {
  const { ChangeType, ...fields } = event;
  const allowed = fieldSet === 'reduced' ? REDUCED_FIELDS[ChangeType] : null;
  if (fieldSet === 'reduced' && ChangeType === 'update_party' && fields['ParentId'] === undefined) return null;
  const xml: XmlFields = {
    ToUserName: header.corpId,
    FromUserName: 'sys',
    CreateTime: header.createTime,
    MsgType: 'event',
    Event: 'change_contact',
    ChangeType,
  };
  for (const [name, value] of Object.entries(fields)) {
    if (allowed && !allowed.includes(name)) continue;
    const rendered = name === 'ExtAttr' ? renderExtAttr(value) : renderValue(value);
    if (rendered !== undefined) xml[name] = rendered;
  }
  return xml;
}

/**
 * Lists of ids become comma-separated text, as in `<Department><![CDATA[1,2,3]]></Department>` and
 * `<IsLeaderInDept>`; lists of objects repeat their element (`<Item>…</Item><Item>…</Item>`);
 * booleans become 1/0; nested objects keep their shape.
 */
function renderValue(value: unknown): XmlValue | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (Array.isArray(value)) {
    if (value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) {
      return value.length ? value.map((v) => renderValue(v) as XmlFields) : '';
    }
    return value.map((v) => String(v)).join(',');
  }
  if (typeof value === 'object') {
    const out: XmlFields = {};
    for (const [k, v] of Object.entries(value)) {
      const r = renderValue(v);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return String(value);
}

/**
 * `<ExtAttr><Item><Name/><Type>0</Type><Text><Value/></Text></Item>…</ExtAttr>` (type 1:
 * `<Web><Title/><Url/></Web>`). Accepts the wire shape (`{attrs: [{type, name, text|web}]}` or the
 * bare list) and the XML shape (`{Item: [...]}`, with lower- or XML-cased item fields).
 */
function renderExtAttr(value: unknown): XmlValue | undefined {
  if (value === undefined || value === null) return undefined;
  const holder = value as { attrs?: unknown; Item?: unknown };
  const list = Array.isArray(value) ? value : (holder.Item ?? holder.attrs);
  if (!Array.isArray(list)) return renderValue(value);
  const items: XmlFields[] = list.map((raw) => {
    const a = raw as Record<string, unknown>;
    const pick = (lower: string, upper: string) => a[lower] ?? a[upper];
    const type = Number(pick('type', 'Type') ?? 0);
    const item: XmlFields = { Name: String(pick('name', 'Name') ?? ''), Type: type };
    const text = pick('text', 'Text') as Record<string, unknown> | undefined;
    const web = pick('web', 'Web') as Record<string, unknown> | undefined;
    if (text) item['Text'] = { Value: String(text['value'] ?? text['Value'] ?? '') };
    if (web) item['Web'] = { Title: String(web['title'] ?? web['Title'] ?? ''), Url: String(web['url'] ?? web['Url'] ?? '') };
    return item;
  });
  return { Item: items };
}

export interface CallbackConfig {
  url: string | null;
  token?: string;
  encodingAESKey?: string;
  fieldSet?: CallbackFieldSet;
}

export type ConfigureResult = { ok: true } | { ok: false; error: string };

/**
 * The contacts-sync callback of one corp: its settings, an ordered delivery queue and a log of
 * deliveries for the admin API.
 */
export class ContactCallbacks {
  private queue: Promise<void> = Promise.resolve();
  private records: DeliveryRecord[] = [];
  private seq = 0;
  /** Bumped by `reset()`: queued deliveries of an older generation are dropped, not sent. */
  private generation = 0;
  /** Aborted by `reset()`: stops the delivery in progress. */
  private stop = new AbortController();

  constructor(private readonly host: CallbackHost) {}

  /** The change sink: queues one delivery per event; returns at once. */
  readonly onChanges = (events: ChangeEvent[]): void => {
    const url = this.host.callbackUrl;
    if (!url) return;
    const target = { url, ...this.host.callbackSettings, receiveId: this.host.store.corpId };
    const header = { corpId: this.host.store.corpId, createTime: this.host.clock.nowSeconds() };
    for (const event of events) {
      const xmlFields = renderChangeContact(event, header, this.host.options.callbackFieldSet);
      if (xmlFields) this.enqueue(event.ChangeType, header.createTime, { ...target, xmlFields });
    }
  };

  private enqueue(changeType: ChangeEvent['ChangeType'], createTime: number, delivery: Parameters<typeof deliverEvent>[0]): void {
    const record: DeliveryRecord = { seq: ++this.seq, changeType, createTime, attempts: 0, status: 'pending', httpStatus: null };
    this.records.push(record);
    if (this.records.length > DELIVERY_LOG_MAX) this.records.splice(0, this.records.length - DELIVERY_LOG_MAX);
    const generation = this.generation;
    const { signal } = this.stop;
    this.queue = this.queue
      .then(async () => {
        if (generation !== this.generation) {
          record.status = 'dropped';
          return;
        }
        record.status = 'delivering';
        const outcome = await deliverEvent({
          ...delivery,
          timing: this.timing(),
          signal,
          nowSeconds: () => this.host.clock.nowSeconds(),
          onAttempt: (n) => {
            record.attempts = n;
          },
        });
        record.attempts = outcome.attempts;
        record.httpStatus = outcome.httpStatus;
        record.status = outcome.delivered ? 'delivered' : signal.aborted ? 'dropped' : 'failed';
        if (outcome.error) record.error = outcome.error;
      })
      .catch((err: unknown) => {
        // Keep the queue alive for later events; the message names no secret (crypto errors never do).
        record.status = 'failed';
        record.error = err instanceof Error ? err.message : 'delivery failed';
      });
  }

  private timing(): Partial<DeliveryTiming> {
    return { timeoutMs: this.host.options.callbackTimeoutMs, retryDelayMs: this.host.options.callbackRetryDelayMs };
  }

  /**
   * Sets the callback as the admin console does: a new URL must pass URL verification with the new
   * token and key first; on failure nothing changes. `url: null` removes the callback.
   */
  async configure(config: CallbackConfig): Promise<ConfigureResult> {
    const settings = {
      token: config.token ?? this.host.callbackSettings.token,
      encodingAESKey: config.encodingAESKey ?? this.host.callbackSettings.encodingAESKey,
    };
    if (config.url !== null) {
      const verified = await verifyCallbackUrl({
        url: config.url,
        ...settings,
        receiveId: this.host.store.corpId,
        timeoutMs: this.host.options.callbackVerifyTimeoutMs,
        nowSeconds: () => this.host.clock.nowSeconds(),
      });
      if (!verified.ok) return { ok: false, error: `callback URL verification failed: ${verified.reason}; the previous callback is kept` };
    }
    this.host.callbackUrl = config.url;
    this.host.callbackSettings.token = settings.token;
    this.host.callbackSettings.encodingAESKey = settings.encodingAESKey;
    if (config.fieldSet) this.host.options.callbackFieldSet = config.fieldSet;
    return { ok: true };
  }

  /** `GET /__emulator/callback`. */
  snapshot() {
    return {
      url: this.host.callbackUrl,
      fieldSet: this.host.options.callbackFieldSet,
      token: this.host.callbackSettings.token,
      encodingAESKey: this.host.callbackSettings.encodingAESKey,
      deliveries: this.records.map((r) => ({ ...r })),
    };
  }

  /** Resolves when every delivery queued so far has finished (delivered, failed or dropped). */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Forgets the log and drops deliveries not yet started (reseed, close). */
  reset(): void {
    this.generation++;
    this.stop.abort();
    this.stop = new AbortController();
    this.records = [];
  }
}
