import { RequestRefused } from './api.ts';
import { t } from './i18n.ts';

/** How a failed request reads on the page: a refusal says so and what to check. */
export function ErrorNote({ error }: { error: unknown }) {
  if (error instanceof RequestRefused) {
    return (
      <div class={error.accessDenied ? 'note refused' : 'note failed'} role="alert">
        <strong>{error.accessDenied ? t.refused : t.failed}</strong> <code>{error.code}</code>
        <div>{error.message}</div>
        {error.accessDenied ? <div class="hint">{t.refusedHint}</div> : null}
      </div>
    );
  }
  return (
    <div class="note failed" role="alert">
      <strong>{t.failed}</strong> <div>{error instanceof Error ? error.message : String(error)}</div>
    </div>
  );
}

/** A round badge with the first character of a name (avatars live on WeCom's CDN, another host). */
export function Initial({ name }: { name: string }) {
  return (
    <span class="initial" aria-hidden="true">
      {Array.from(name)[0] ?? '?'}
    </span>
  );
}
