import { GraphQLError } from 'graphql';
import type { GraphQLContext } from './context.ts';
import type { DirectoryChange } from '../directory/changes.ts';
import { WeComError } from '../wecom/errors.ts';

/**
 * What every successful write does before its payload is resolved: publish the change (the
 * directory cache drops what it held, subscribers hear of it; the bus is synchronous, so this is
 * done before anything is read again) and give the request fresh loaders, so the payload's nested
 * fields, and later mutations of the same request, never see a pre-write value.
 */
export function publishWrite(ctx: GraphQLContext, ...changes: DirectoryChange[]): void {
  for (const change of changes) ctx.changes.publish(change);
  ctx.refreshLoaders();
}

/**
 * The entity as WeCom has it after the write: read straight from WeCom through the client (never
 * a value cached before the write). When the client's read is refused (e.g. the member is outside
 * the app's visibility, or contacts-sync reads are restricted since 2022-08-15), the request's
 * fresh loaders try the service's read strategy instead. The write itself has succeeded either
 * way; only when neither read can show the entity is the field an error.
 */
export async function readBack<T>(what: string, direct: () => Promise<T>, viaLoaders: () => Promise<T | null>): Promise<T> {
  try {
    return await direct();
  } catch (err) {
    if (!(err instanceof WeComError)) throw err;
    const loaded = await viaLoaders().catch(() => null);
    if (loaded) return loaded;
    throw new GraphQLError(`The write succeeded, but WeCom does not show ${what} to this service`, {
      extensions: { code: 'WRITTEN_NOT_READABLE' },
    });
  }
}
