import { serveProcess } from './serve-process.ts';

/**
 * Process entry: configuration, the service (src/service.ts: the embedded emulator when no WeCom
 * credentials are set, the GraphQL server), and an orderly shutdown on SIGTERM/SIGINT
 * (src/serve-process.ts).
 */
serveProcess();
