import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import { serviceTest } from '../testkit/service.ts';
import { ALL, keysOnly, send, testKey, withKey } from './helpers.ts';

/**
 * Issue 14 item 9: `If-None-Match` answered 304 for an ETag cached under another view, revealing
 * what that view had asked. A 304 is given only for an answer of the caller's own view.
 */

const admin = testKey('admin', ALL);
const subtree = testKey('subtree', ['directory:read'], [2]);
const otherReader = testKey('reader', ['directory:read']);

const it = serviceTest({ cache: {}, security: keysOnly([admin, subtree, otherReader]) }, { resetStats: false });

const QUERY = graphql(`query EtagDepartment { department(id: 2) { name } }`);

describe('ETag and If-None-Match', () => {
  it('answers 304 to the view that cached the answer', async ({ service }) => {
    const first = await send(service, QUERY, {}, withKey(admin));
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^[0-9a-f]{40}$/);
    const again = await send(service, QUERY, {}, { ...withKey(admin), 'if-none-match': etag! });
    expect(again.status).toBe(304);
  });

  it('never answers 304 with another view’s ETag', async ({ service }) => {
    const adminEtag = (await send(service, QUERY, {}, withKey(admin))).headers.get('etag')!;
    for (const key of [subtree, otherReader]) {
      const res = await send(service, QUERY, {}, { ...withKey(key), 'if-none-match': adminEtag });
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).not.toBe(adminEtag);
      expect(res.body.data!.department).toEqual({ name: expect.any(String) });
    }
  });

  it('gives mutations no ETag and always runs them', async ({ service }) => {
    const create = graphql(`mutation EtagCreateTag { createTag(input: { tagName: "ETag 标签" }) { __typename } }`);
    const first = await send(service, create, {}, withKey(admin));
    const second = await send(service, create, {}, withKey(admin));
    expect(first.headers.get('etag')).toBeNull();
    expect(first.body.data!.createTag.__typename).toBe('MutationCreateTagSuccess');
    expect(second.body.data!.createTag.__typename).toBe('AlreadyExistsError');
  });
});
