import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/index.ts';

describe('loadConfig', () => {
  it('runs on the embedded emulator when no WeCom credential is set', () => {
    const config = loadConfig({});
    expect(config.wecom).toEqual({ mode: 'embedded', emulatorPort: 4010, seed: 1, size: 'demo' });
    expect(config.port).toBe(4000);
  });

  it('targets WeCom with a corp id and a secret', () => {
    const config = loadConfig({
      WECOM_CORP_ID: 'ww1234',
      WECOM_CONTACT_SECRET: 's3cret',
      WECOM_APP_SECRET: 'app',
      WECOM_AGENT_ID: '1000002',
    });
    expect(config.wecom).toEqual({
      mode: 'remote',
      target: {
        baseUrl: 'https://qyapi.weixin.qq.com',
        corpId: 'ww1234',
        contactSecret: 's3cret',
        app: { agentId: 1000002, secret: 'app' },
      },
    });
  });

  it.each([
    [{ WECOM_CONTACT_SECRET: 'topsecret' }, 'WECOM_CORP_ID'],
    [{ WECOM_CORP_ID: 'ww1' }, 'WECOM_CONTACT_SECRET or WECOM_APP_SECRET'],
    [{ WECOM_CORP_ID: 'ww1', WECOM_APP_SECRET: 'topsecret' }, 'WECOM_AGENT_ID'],
    [{ WECOM_CORP_ID: 'ww1', WECOM_APP_SECRET: 'topsecret', WECOM_AGENT_ID: 'abc' }, 'WECOM_AGENT_ID: must be a number'],
    [{ PORT: '70000' }, 'PORT must be a port number'],
    [{ WECOM_EMULATOR_SIZE: 'gigantic' }, 'WECOM_EMULATOR_SIZE'],
    [{ WECOM_BASE_URL: 'not a url', WECOM_CORP_ID: 'ww1', WECOM_CONTACT_SECRET: 'topsecret' }, 'WECOM_BASE_URL'],
  ])('refuses %j naming %s, without echoing secrets', (env, named) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(named);
    expect((error as Error).message).not.toContain('topsecret');
  });
});
