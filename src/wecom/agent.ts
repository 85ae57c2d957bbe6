/**
 * An app's details and visible range (docs/wecom-api.md §14): what the app secret may read since 2022.
 */
import { endpoint, type CallOptions, type Invoke } from './endpoint.ts';
import { arrayField, numberField, type WireObject } from './wire.ts';

export interface WeComAgent {
  agentId: number;
  name: string;
  description: string;
  squareLogoUrl: string;
  /** Members made visible one by one (`allow_userinfos.user[].userid`). */
  allowUserids: string[];
  /** Departments made visible, each with its whole subtree (`allow_partys.partyid`). */
  allowDepartmentIds: number[];
  /** Tags made visible: their members and their departments' subtrees (`allow_tags.tagid`). */
  allowTagIds: number[];
  /** `close` 1: the app is disabled. */
  closed: boolean;
  redirectDomain: string;
  homeUrl: string;
}

const objectField = (wire: WireObject, name: string): WireObject => {
  const v = wire[name];
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as WireObject) : {};
};
const text = (wire: WireObject, name: string): string => (typeof wire[name] === 'string' ? (wire[name] as string) : '');

/** Reads agent/get's answer; older fields (`round_logo_url`, `type`, per-user `status`) are tolerated and dropped. */
export function parseAgent(wire: WireObject): WeComAgent {
  const users = arrayField<{ userid?: unknown }>(objectField(wire, 'allow_userinfos'), 'user');
  return {
    agentId: numberField(wire, 'agentid'),
    name: text(wire, 'name'),
    description: text(wire, 'description'),
    squareLogoUrl: text(wire, 'square_logo_url'),
    allowUserids: users.map((u) => u.userid).filter((u): u is string => typeof u === 'string'),
    allowDepartmentIds: arrayField<number>(objectField(wire, 'allow_partys'), 'partyid'),
    allowTagIds: arrayField<number>(objectField(wire, 'allow_tags'), 'tagid'),
    closed: wire.close === 1,
    redirectDomain: text(wire, 'redirect_domain'),
    homeUrl: text(wire, 'home_url'),
  };
}

export const getAgent = endpoint<number, WeComAgent>({
  method: 'GET',
  path: '/cgi-bin/agent/get',
  // An app may read only itself; the contacts-sync secret belongs to no app.
  token: 'app',
  effect: 'read',
  query: (agentId) => ({ agentid: agentId }),
  parse: parseAgent,
});

export function agentApi(invoke: Invoke) {
  return {
    /** `GET /cgi-bin/agent/get`: the configured app's details and visible range (app secret). */
    get: (agentId: number, options?: CallOptions) => invoke(getAgent, agentId, options),
  };
}

export type AgentApi = ReturnType<typeof agentApi>;
