/** Corp-wide facts (docs/wecom-api.md §3.2, §14): the join QR code, the active member count, WeCom's callback addresses. */
import { endpoint, type CallOptions, type Invoke } from './endpoint.ts';
import { arrayField, numberField, stringField } from './wire.ts';

/** 1 = 171×171, 2 = 399×399, 3 = 741×741, 4 = 2052×2052. */
export type QrCodeSize = 1 | 2 | 3 | 4;

export const getJoinQrCode = endpoint<QrCodeSize | undefined, string>({
  method: 'GET',
  path: '/cgi-bin/corp/get_join_qrcode',
  token: 'contact',
  effect: 'read',
  // Omitted when not given: WeCom's default size is unconfirmed (§13).
  query: (sizeType) => ({ size_type: sizeType }),
  parse: (wire) => stringField(wire, 'join_qrcode'),
});

export const getActiveStat = endpoint<string, number>({
  method: 'POST',
  path: '/cgi-bin/user/get_active_stat',
  token: 'contact',
  effect: 'read',
  body: (date) => ({ date }),
  parse: (wire) => numberField(wire, 'active_cnt'),
});

export const getCallbackIp = endpoint<undefined, string[]>({
  method: 'GET',
  path: '/cgi-bin/getcallbackip',
  // Any token of the corp answers it.
  token: 'read',
  effect: 'read',
  parse: (wire) => arrayField<string>(wire, 'ip_list'),
});

export function corpApi(invoke: Invoke) {
  return {
    /** `GET /cgi-bin/corp/get_join_qrcode`: a join-the-corp QR code link, valid 7 days (contacts-sync secret). */
    getJoinQrCode: (sizeType?: QrCodeSize, options?: CallOptions) => invoke(getJoinQrCode, sizeType, options),
    /** `POST /cgi-bin/user/get_active_stat`: active members on a date (YYYY-MM-DD, ≤ 30 days back; contacts-sync secret). */
    getActiveStat: (date: string, options?: CallOptions) => invoke(getActiveStat, date, options),
    /** `GET /cgi-bin/getcallbackip`: the address segments WeCom's callbacks come from (e.g. "101.226.103.*"); changes over time. */
    getCallbackIp: (options?: CallOptions) => invoke(getCallbackIp, undefined, options),
  };
}

export type CorpApi = ReturnType<typeof corpApi>;
