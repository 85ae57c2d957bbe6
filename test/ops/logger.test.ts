import { describe, expect, it } from 'vitest';
import { createLogger, requestScope, scrubText } from '../../src/ops/logger.ts';

/** Log lines never carry a secret, a token or a password, wherever it sits; lines written during a request carry its id. */

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const SECRETS = [
  'S3cretContactValue',
  'AppSecretValue99',
  'TokenValue123456',
  'AesKeyValue',
  'hunter22',
  'Bearer-JWT-Value',
  'ApiKeyValue777',
];

/** The fields of the lines this file logs (pino's JSON; the test reads them back). */
interface LoggedLine {
  level: string;
  msg: string;
  path: string;
  redis: string;
  wecom: unknown;
  err: { message: string; stack: string };
}

describe('createLogger', () => {
  it('censors secret fields at any of the first three levels and scrubs credentials out of strings', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        secret: SECRETS[0],
        wecom: { contactSecret: SECRETS[0], app: { secret: SECRETS[1] } },
        token: { accessToken: SECRETS[2] },
        callback: { encodingAESKey: SECRETS[3] },
        headers: { authorization: `Bearer ${SECRETS[5]}`, 'x-api-key': SECRETS[6] },
        url: `/cgi-bin/gettoken?corpid=ww1&corpsecret=${SECRETS[0]}`,
        path: `/cgi-bin/user/get?access_token=${SECRETS[2]}&userid=zhangsan`,
        redis: `redis://default:${SECRETS[4]}@redis:6379`,
      },
      `calling https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token=${SECRETS[2]} with Bearer ${SECRETS[5]}`,
    );
    logger.error({ err: new Error(`connect failed: redis://:${SECRETS[4]}@10.0.0.5:6379 ?corpsecret=${SECRETS[1]}`) }, 'oops');
    const text = lines.join('');
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    const [first, second] = lines.map((l) => JSON.parse(l) as LoggedLine);
    expect(first!.wecom).toEqual({ contactSecret: '[redacted]', app: { secret: '[redacted]' } });
    expect(first!.path).toBe('/cgi-bin/user/get?access_token=[redacted]&userid=zhangsan');
    expect(first!.redis).toBe('redis://default:[redacted]@redis:6379');
    expect(first!.msg).toBe('calling https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token=[redacted] with Bearer [redacted]');
    expect(second!.err.message).toBe('connect failed: redis://:[redacted]@10.0.0.5:6379 ?corpsecret=[redacted]');
    expect(second!.err.stack).toContain('connect failed: redis://:[redacted]@');
    // Everything else is kept as logged.
    expect(first!.path).toContain('userid=zhangsan');
    expect(first!.level).toBe('info');
  });

  it('adds the request id to every line written while serving a request, and only then', async () => {
    const { logger, parsed } = capture();
    logger.info('before');
    await requestScope.run({ requestId: 'req-42' }, async () => {
      logger.info('inside');
      await new Promise((r) => setTimeout(r, 5));
      logger.child({ component: 'wecom' }).warn({ endpoint: '/cgi-bin/user/get' }, 'after an await, from a child logger');
    });
    logger.info('after');
    expect(parsed().map((l) => [l.msg, l.reqId])).toEqual([
      ['before', undefined],
      ['inside', 'req-42'],
      ['after an await, from a child logger', 'req-42'],
      ['after', undefined],
    ]);
  });
});

describe('scrubText', () => {
  it.each([
    ['/cgi-bin/gettoken?corpid=ww1&corpsecret=abc', '/cgi-bin/gettoken?corpid=ww1&corpsecret=[redacted]'],
    ['?ACCESS_TOKEN=abc&x=1', '?ACCESS_TOKEN=[redacted]&x=1'],
    ['/wecom/callback?msg_signature=s&echostr=enc', '/wecom/callback?msg_signature=s&echostr=[redacted]'],
    ['authorization: Bearer eyJhbGciOi.x.y', 'authorization: Bearer [redacted]'],
    ['rediss://user:pass@host:6380/0', 'rediss://user:[redacted]@host:6380/0'],
    ['nothing to hide', 'nothing to hide'],
  ])('%s → %s', (input, output) => {
    expect(scrubText(input)).toBe(output);
  });
});
