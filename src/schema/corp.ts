import { builder } from './builder.ts';
import { badInput } from './graphql-errors.ts';

const QrCodeSize = builder.enumType('QrCodeSize', {
  description: 'Size of the join-the-corp QR code image.',
  values: {
    SMALL: { value: 1, description: '171 × 171' },
    MEDIUM: { value: 2, description: '399 × 399' },
    LARGE: { value: 3, description: '741 × 741' },
    XLARGE: { value: 4, description: '2052 × 2052' },
  } as const,
});

const DATE = /^\d{4}-\d{2}-\d{2}$/;

builder.queryFields((t) => ({
  joinQrCode: t.string({
    // An invitation into the corp: administrative, and corp-wide.
    authScopes: { admin: true, wholeCorp: true },
    description:
      'Link to the QR code image that invites people to join the corp (corp/get_join_qrcode; the link is valid 7 days). Needs an administrative credential for the whole corp.',
    args: { size: t.arg({ type: QrCodeSize, required: false, description: "Image size; WeCom's default when omitted." }) },
    resolve: (_root, { size }, ctx) => ctx.client.corp.getJoinQrCode(size ?? undefined),
  }),
  activeUserCount: t.int({
    // A statistic of the whole corp: not for a caller limited to departments.
    authScopes: { wholeCorp: true },
    description: 'How many members were active on a day (user/get_active_stat). Needs a credential for the whole corp.',
    args: { date: t.arg.string({ required: true, description: 'The day, YYYY-MM-DD, at most 30 days back.' }) },
    resolve: (_root, { date }, ctx) => {
      if (!DATE.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) throw badInput('date must be YYYY-MM-DD', 'date');
      return ctx.client.corp.getActiveStat(date);
    },
  }),
}));
