import type { EmulatorHarness } from 'wecom-emulator/testing';
import { ServiceProcess } from './service-process.ts';
import { graphql } from '../generated/index.ts';

/**
 * A fleet for the multi-instance tests: instances of `src/main.ts` in their own processes, on one
 * Redis and one emulator, configured only through their environment.
 */

/** The environment of a fleet instance: the contacts-sync secret only, so every read uses one token and gettokens count exactly. */
export function fleetEnvironment(
  wecom: EmulatorHarness,
  redisUrl: string,
  prefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const creds = wecom.creds;
  return {
    WECOM_BASE_URL: wecom.url,
    WECOM_CORP_ID: creds.corpId,
    WECOM_CONTACT_SECRET: creds.contactSecret,
    WECOM_CALLBACK_TOKEN: creds.callback.token,
    WECOM_CALLBACK_AES_KEY: creds.callback.encodingAESKey,
    ALLOW_ANONYMOUS: 'true',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    ...extra,
  };
}

export function startFleet(size: number, env: Record<string, string>): Promise<ServiceProcess[]> {
  return Promise.all(Array.from({ length: size }, () => ServiceProcess.start(env)));
}

/** The org tree a frontend shows: levels 1–3 and the members of every level-3 department. */
export const ORG_TREE = graphql(`query OrgTree($root: Int!) {
  department(id: $root) { departmentId name children { departmentId name children { departmentId name members(first: 100) { totalCount nodes { userid name position } } } } }
}`);

/** Department ids at depth 3 below `root` (their member lists are what the org tree reads). */
export async function levelThree(wecom: EmulatorHarness, root = 1): Promise<number[]> {
  const departments = (await wecom.console('department/list')).json.department as { id: number; parentid: number }[];
  const children = (id: number) => departments.filter((d) => d.parentid === id && d.id !== id).map((d) => d.id);
  return children(root).flatMap(children);
}
