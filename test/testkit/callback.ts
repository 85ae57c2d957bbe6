import { expect } from 'vitest';
import { CallbackSender } from '../helpers/callback-sender.ts';
import type { ServiceHarness } from '../helpers/service.ts';
import { type ServiceOptions, type ServiceTestOptions, serviceTest } from './service.ts';

/** A sender of WeCom callbacks signed with the service's callback Token and EncodingAESKey (the emulator's). */
export function callbackSender(service: ServiceHarness): CallbackSender {
  const { corpId, callback } = service.wecom.creds;
  return new CallbackSender({ token: callback.token, encodingAESKey: callback.encodingAESKey, corpId });
}

/**
 * Points the emulator's contacts-sync callback at the service (`listen: true`), so changes made in
 * its console reach /wecom/callback; the emulator first verifies the URL, as WeCom does.
 */
export async function deliverCallbacks(service: ServiceHarness, fieldSet?: 'full' | 'reduced'): Promise<void> {
  const { callback } = service.wecom.creds;
  const configured = await service.wecom.admin('callback', 'POST', {
    url: `${service.url}/wecom/callback`,
    token: callback.token,
    encodingAESKey: callback.encodingAESKey,
    ...(fieldSet ? { fieldSet } : {}),
  });
  expect(configured.status, configured.text).toBe(200);
}

/**
 * `serviceTest` for /wecom/callback: the file's service on a loopback socket, serving the route
 * with the emulator's callback settings (`options.callback` adds to them), and `sender`, signing
 * as WeCom would for that service.
 */
export function callbackTest(options: ServiceOptions = {}, perFile: ServiceTestOptions = {}) {
  return serviceTest({ callback: true, listen: true, ...options }, perFile).extend('sender', { scope: 'file' }, ({ service }) =>
    callbackSender(service),
  );
}
