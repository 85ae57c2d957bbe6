import type { CallbackSettings } from './seed.ts';

/** What `GET /__emulator/credentials` answers and the CLI prints: everything a client needs to connect. */
export interface Credentials {
  corpId: string;
  contactSecret: string;
  app: { agentId: number; secret: string };
  apps: { agentId: number; secret: string; name: string }[];
  callback: CallbackSettings;
}
