import { userKey } from 'wecom-protocol/userid';
/**
 * What the benchmark knows of the emulator, read over HTTP like any tool outside the service:
 * the admin API (`/__emulator/…`) for credentials, faults and call counters, the console
 * (`/__emulator/console/…`, no token, no latency, not counted) for the directory itself, and the
 * WeCom API as the app for the linked corps, which the console does not serve. The minimum upstream
 * calls of each scenario are computed from this snapshot, never hard-coded.
 */

export interface Credentials {
  corpId: string;
  contactSecret: string;
  app: { agentId: number; secret: string };
}

export interface EmulatorStats {
  total: number;
  calls: Record<string, number>;
  errors: Record<string, number>;
}

/** A department as the console's department/list returns it (WeCom wire shape). */
export interface StateDepartment {
  id: number;
  name: string;
  parentid: number;
  department_leader?: string[];
}

/** A member as the console's user/list returns it (WeCom wire shape). */
export interface StateUser {
  userid: string;
  name: string;
  department: number[];
  direct_leader?: string[];
}

export interface StateTag {
  tagid: number;
  userids: string[];
  departmentIds: number[];
}

/** The directory and the app's linked-corp grant, as the emulator holds them now. */
export interface DirectorySnapshot {
  departments: StateDepartment[];
  /** Members directly in each department (user/list without fetch_child). */
  membersByDepartment: Map<number, StateUser[]>;
  /** Everyone, each once. */
  users: StateUser[];
  tags: StateTag[];
  /** Departments the directory app was granted in linked corps (`LINKEDID/DEPARTMENTID`). */
  linkedDepartmentIds: string[];
}

/** Console reads run this many at a time (the large seed has 2,221 departments). */
const CONSOLE_PARALLELISM = 16;

export class EmulatorClient {
  constructor(readonly url: string) {}

  credentials(): Promise<Credentials> {
    return this.admin<Credentials>('GET', 'credentials');
  }

  stats(): Promise<EmulatorStats> {
    return this.admin<EmulatorStats>('GET', 'stats');
  }

  async resetStats(): Promise<void> {
    await this.admin('POST', 'stats/reset');
  }

  async setFaults(faults: Record<string, unknown>): Promise<void> {
    await this.admin('POST', 'faults', faults);
  }

  /** One console call (acts as an administrator; answers WeCom's JSON with errcode). */
  async console<T>(path: string, body: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(`${this.url}/__emulator/console/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { errcode: number; errmsg: string } & T;
    if (json.errcode !== 0) throw new Error(`console ${path}: errcode ${json.errcode} ${json.errmsg}`);
    return json;
  }

  /** A WeCom API call with a token (POST with a JSON body when one is given). */
  async api<T>(path: string, token: string, body?: Record<string, unknown>, query: Record<string, string | number> = {}): Promise<T> {
    const url = new URL(`/cgi-bin/${path}`, this.url);
    url.searchParams.set('access_token', token);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    const res = await fetch(
      url,
      body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    );
    const json = (await res.json()) as { errcode: number; errmsg: string } & T;
    if (json.errcode !== 0) throw new Error(`${path}: errcode ${json.errcode} ${json.errmsg}`);
    return json;
  }

  async token(corpId: string, secret: string): Promise<string> {
    const url = new URL('/cgi-bin/gettoken', this.url);
    url.searchParams.set('corpid', corpId);
    url.searchParams.set('corpsecret', secret);
    const json = (await (await fetch(url)).json()) as { errcode: number; access_token?: string };
    if (json.errcode !== 0 || !json.access_token) throw new Error(`gettoken: errcode ${json.errcode}`);
    return json.access_token;
  }

  /** Reads the whole directory through the console, and the app's linked grant through the API. */
  async snapshot(creds: Credentials): Promise<DirectorySnapshot> {
    const { department } = await this.console<{ department: StateDepartment[] }>('department/list');
    const lists = await mapLimit(department, CONSOLE_PARALLELISM, (d) =>
      this.console<{ userlist: StateUser[] }>('user/list', { department_id: d.id }).then((r) => r.userlist),
    );
    const membersByDepartment = new Map<number, StateUser[]>();
    const everyone = new Map<string, StateUser>();
    department.forEach((d, i) => {
      const list = lists[i] ?? [];
      membersByDepartment.set(d.id, list);
      for (const u of list) everyone.set(userKey(u.userid), u);
    });
    const { taglist } = await this.console<{ taglist: { tagid: number }[] }>('tag/list');
    const tags = await mapLimit(taglist, CONSOLE_PARALLELISM, async (t) => {
      const tag = await this.console<{ userlist: { userid: string }[]; partylist: number[] }>('tag/get', { tagid: t.tagid });
      return { tagid: t.tagid, userids: tag.userlist.map((u) => u.userid), departmentIds: tag.partylist };
    });
    // Linked corps are app-only in WeCom and the console has no access: ask as the directory app.
    const appToken = await this.token(creds.corpId, creds.app.secret);
    const perms = await this.api<{ department_ids: string[] }>('linkedcorp/agent/get_perm_list', appToken, {});
    return { departments: department, membersByDepartment, users: [...everyone.values()], tags, linkedDepartmentIds: perms.department_ids };
  }

  private async admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}/__emulator/${path}`, {
      method,
      // The admin API takes JSON on every change, bodiless ones included.
      ...(method === 'GET' ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) }),
    });
    if (!res.ok) throw new Error(`emulator admin ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
