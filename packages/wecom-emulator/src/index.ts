/** The emulator's public surface: the server, its options, and the file readers of its import jobs. */
export { Emulator } from './server.ts';
export type { EmulatorOptions, SeedSize, CallbackFieldSet } from './options.ts';
export { readMemberFile } from './import-users.ts';
export { readPartyFile } from './import-parties.ts';
export { DIRECTORY_APP_AGENT_ID, SALES_APP_AGENT_ID } from './seed.ts';
