import { SignJWT } from 'jose';
import { describe, expect } from 'vitest';
import { createAuthenticator } from '../../src/auth/authenticate.ts';
import type { ServiceHarness } from '../helpers/service.ts';
import { send } from '../helpers/callback-sender.ts';
import { ERROR_FIELDS } from '../helpers/mutations.ts';
import { serviceTest } from '../testkit/service.ts';
import { ALL, loggerInto, post, senderFor, testKey, withKey } from './helpers.ts';

/**
 * No secret reaches a response or a log line: not the WeCom secrets, not an access token WeCom
 * issued, not the callback Token or EncodingAESKey, not a caller's API key or JWT, and no
 * upstream URL with `access_token=`. The service runs with every log level on, its log written
 * to a buffer, through requests that fail in every way (bad credentials, upstream errors,
 * expired tokens, forged callbacks, hostile input) and some that succeed; then everything it
 * wrote and answered is searched.
 */

const JWT_SECRET = 'jwt-shared-secret-for-the-log-scan-test-0001';
const admin = testKey('admin', ALL);
/** Everything the service logged, and everything it answered. */
const lines: string[] = [];
const responses: string[] = [];
const logger = loggerInto(lines, 'trace');

const it = serviceTest(
  {
    listen: true,
    callback: true,
    logger,
    client: { logger },
    security: {
      auth: createAuthenticator({
        apiKeys: [admin.entry],
        jwt: { hs256Secret: JWT_SECRET, issuer: 'https://id.example.com', audience: 'wecom-directory' },
      }),
      rateLimit: { requestsPerMinute: 600, requestBurst: 30, mutationsPerMinute: 60, mutationBurst: 5 },
    },
  },
  { resetStats: false },
);

/**
 * Sends a request as text (the run includes hostile and failing ones; only what comes back
 * matters) and keeps its answer's body and headers for the scan.
 */
async function gql(
  service: ServiceHarness,
  query: string,
  headers: Record<string, string> = withKey(admin),
  variables?: Record<string, unknown>,
): Promise<void> {
  const r = await post(service, { query, variables }, headers);
  responses.push(JSON.stringify(r.body), JSON.stringify([...r.headers]));
}

describe('secrets in responses and logs', () => {
  it('appear nowhere after a run of failing, hostile and successful requests', async ({ service }) => {
    const sender = senderFor(service.wecom);
    const creds = service.wecom.creds;
    const presentedJwt = await new SignJWT({ scope: 'directory:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuer('https://evil.example.com')
      .setAudience('wecom-directory')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET));

    // Credentials that fail: a wrong key, a key-like string, a JWT with the wrong issuer.
    await gql(service, '{ department(id: 1) { name } }', { 'x-api-key': 'wdk_not-a-real-key-but-looks-like-one' });
    await gql(service, '{ department(id: 1) { name } }', { authorization: `Bearer ${presentedJwt}` });
    await gql(service, '{ department(id: 1) { name } }', { authorization: `Bearer ${admin.key}x` });
    // Successful reads and a write (the client fetches and uses tokens).
    await gql(service, '{ department(id: 1) { name children { name members(first: 5) { nodes { userid mobile } } } } }');
    await gql(
      service,
      `mutation { createUser(input: { userid: "log.scan", name: "日志", departmentIds: [2], mobile: "13955556666" }) { __typename ...ErrorFields } } ${ERROR_FIELDS}`,
    );
    // The tokens WeCom issued the service (within their validity, gettoken gives the same one back).
    const issued = async () => {
      const secretsOf = [creds.contactSecret, ...creds.apps.map((a: { secret: string }) => a.secret)];
      return Promise.all(
        secretsOf.map(
          async (secret) =>
            (await service.wecom.call('gettoken', { query: { corpid: creds.corpId, corpsecret: secret } })).json.access_token as string,
        ),
      );
    };
    const tokensBefore = await issued();
    // Upstream failures: every token expired, then WeCom errors and refusals.
    await service.wecom.faults({ expireTokens: true });
    await gql(service, '{ user(userid: "xiegang") { name } }');
    await service.wecom.faults({ errorRate: { '-1': 1 } });
    await gql(service, '{ user(userid: "liangfang") { name } }');
    await gql(
      service,
      `mutation { updateUser(input: { userid: "xiegang", position: "x" }) { __typename ...ErrorFields } } ${ERROR_FIELDS}`,
    );
    await service.wecom.clearFaults();
    await service.wecom.faults({ errorRate: { '502': 1 } });
    await gql(service, '{ tags { name } }');
    await service.wecom.clearFaults();
    await gql(service, `mutation { deleteUser(userid: "no.such.member") { __typename ...ErrorFields } } ${ERROR_FIELDS}`);
    await gql(service, '{ userByOpenId(openId: "oNotAnOpenId") { userid } }');
    // Hostile input.
    await gql(service, 'query($u: String!) { user(userid: $u) { name } }', withKey(admin), { u: 'a&access_token=x' });
    await gql(service, `{ department(id: 1) { ${'parent { '.repeat(30)}name${' }'.repeat(30)} } }`);
    await gql(service, '{ department(id: 1) { nmae } }');
    // Forged and genuine callbacks.
    responses.push(
      JSON.stringify(
        await send(service.url, sender.post(sender.changeContact('update_user', { UserID: 'xiegang' }), { signature: 'f'.repeat(40) })),
      ),
    );
    responses.push(
      JSON.stringify(await send(service.url, sender.post(sender.changeContact('update_user', { UserID: 'xiegang', Name: '谢刚' })))),
    );
    await service.app.callback!.idle();
    // Over the budget.
    for (let i = 0; i < 35; i++) await gql(service, '{ __typename }');

    const tokens = [...tokensBefore, ...(await issued())];
    const secrets: Record<string, string> = {
      contactSecret: creds.contactSecret,
      ...Object.fromEntries(creds.apps.map((a: { agentId: number; secret: string }) => [`app ${a.agentId} secret`, a.secret])),
      'callback token': creds.callback.token,
      EncodingAESKey: creds.callback.encodingAESKey,
      'API key': admin.key,
      'presented wrong key': 'wdk_not-a-real-key-but-looks-like-one',
      'presented JWT': presentedJwt,
      'JWT secret': JWT_SECRET,
      ...Object.fromEntries(tokens.map((t, i) => [`access token ${i}`, t])),
    };

    expect(lines.length).toBeGreaterThan(10);
    expect(lines.some((l) => l.includes('not authenticated'))).toBe(true);
    expect(lines.some((l) => l.includes('rate limit'))).toBe(true);
    const everything = [...lines, ...responses];
    for (const [what, secret] of Object.entries(secrets)) {
      expect(secret.length, what).toBeGreaterThan(8);
      const leaks = everything.filter((l) => l.includes(secret));
      expect(leaks, `${what} leaked`).toEqual([]);
    }
    expect(everything.filter((l) => /access_token=/i.test(l) && !l.includes('a&access_token=x'))).toEqual([]);
    expect(everything.filter((l) => /corpsecret=/i.test(l))).toEqual([]);
  });
});
