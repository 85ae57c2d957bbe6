import { useEffect, useState } from 'preact/hooks';
import { query } from './api.ts';
import { onChange } from './changes.ts';
import { ExplorerSearchDocument, type ExplorerSearchQuery } from './generated/graphql.ts';
import { t } from './i18n.ts';
import { ErrorNote, Initial } from './status.tsx';

type Results = ExplorerSearchQuery['searchUsers'];

/** Pause after a keystroke before searching: one request per word typed, not per letter. */
const TYPING_PAUSE_MS = 150;

/** Type-ahead search over searchUsers: pinyin, initials or Han characters; the latest input wins. */
export function PeoplePicker({ onOpenMember }: { onOpenMember: (userid: string) => void }) {
  const [text, setText] = useState('');
  const [results, setResults] = useState<Results>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // Bumped when a change may alter the results shown: the search runs again.
  const [revision, setRevision] = useState(0);

  useEffect(
    () =>
      onChange((change) => {
        const shown = results?.nodes.some((u) => u.userid === change.userid) ?? false;
        if (results && (shown || change.kind === 'USER_CREATED' || change.kind === 'DIRECTORY_RELOADED')) setRevision((r) => r + 1);
      }),
    [results],
  );

  useEffect(() => {
    const q = text.trim();
    if (!q) {
      setResults(undefined);
      setError(undefined);
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(async () => {
      setBusy(true);
      try {
        const data = await query(ExplorerSearchDocument, { query: q }, abort.signal);
        setResults(data.searchUsers);
        setError(undefined);
      } catch (err) {
        if (!abort.signal.aborted) setError(err);
      } finally {
        if (!abort.signal.aborted) setBusy(false);
      }
    }, TYPING_PAUSE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [text, revision]);

  return (
    <section class="picker" aria-label={t.people}>
      <input
        type="search"
        class="search"
        placeholder={t.searchPlaceholder}
        value={text}
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
        onKeyDown={(e) => {
          const first = results?.nodes[0];
          if (e.key === 'Enter' && first) onOpenMember(first.userid);
        }}
      />
      {busy ? <div class="muted">{t.searching}</div> : null}
      {error ? <ErrorNote error={error} /> : null}
      {results ? (
        <div class="results">
          <div class="muted" data-testid="match-count">
            {results.totalCount ? t.matches(results.totalCount) : t.noMatches}
          </div>
          <ul>
            {results.nodes.map((u) => (
              <li key={u.userid}>
                <button type="button" class="person" data-userid={u.userid} onClick={() => onOpenMember(u.userid)}>
                  <Initial name={u.name} />
                  <span class="person-name">{u.name}</span>
                  {u.alias ? <span class="person-alias">{u.alias}</span> : null}
                  <span class="person-position">{[u.position, u.mainDepartment?.name].filter(Boolean).join(' · ')}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
