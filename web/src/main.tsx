import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type RequestRefused, storeApiKey, storedApiKey, watchCaller, type Caller } from './api.ts';
import { publishChange } from './changes.ts';
import { subscribeToChanges, type Change, type LiveState } from './live.ts';
import { DepartmentNode } from './tree.tsx';
import { PeoplePicker } from './picker.tsx';
import { MemberCard } from './card.tsx';
import { t } from './i18n.ts';
import { ErrorNote } from './status.tsx';
import './styles.css';

/** The corp's root department (WeCom's department 1). */
const ROOT_DEPARTMENT = 1;
/** Changes listed in the header's log. */
const RECENT_CHANGES = 5;

function KeyField({ onChange }: { onChange: () => void }) {
  const [draft, setDraft] = useState('');
  const stored = storedApiKey();
  return (
    <form
      class="key"
      onSubmit={(e) => {
        e.preventDefault();
        storeApiKey(draft.trim());
        setDraft('');
        onChange();
      }}
    >
      <label>
        <span>{t.apiKey}</span>
        <input
          type="password"
          name="api-key"
          autocomplete="off"
          placeholder={stored ? '••••••••' : t.apiKeyPlaceholder}
          value={draft}
          onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit">{t.useKey}</button>
      {stored ? (
        <button
          type="button"
          onClick={() => {
            storeApiKey('');
            onChange();
          }}
        >
          {t.clearKey}
        </button>
      ) : null}
    </form>
  );
}

function App() {
  // A new key starts a new session: the tree, the card and the subscription are read again.
  const [session, setSession] = useState(0);
  const [caller, setCaller] = useState<Caller>();
  const [openUserid, setOpenUserid] = useState<string>();
  const [live, setLive] = useState<LiveState>('connecting');
  const [liveRefusal, setLiveRefusal] = useState<RequestRefused>();
  const [recent, setRecent] = useState<Change[]>([]);

  useEffect(() => watchCaller(setCaller), []);
  useEffect(
    () =>
      subscribeToChanges(
        (change) => {
          setRecent((list) => [change, ...list].slice(0, RECENT_CHANGES));
          publishChange(change);
        },
        (state, refused) => {
          setLive(state);
          setLiveRefusal(refused);
        },
      ),
    [session],
  );

  return (
    <div class="app">
      <header class="top">
        <h1>{t.title}</h1>
        <span class={`live ${live}`} data-testid="live" data-state={live}>
          {t.liveState[live]}
        </span>
        <div class="caller muted" data-testid="caller">
          {caller ? (caller.kind === 'anonymous' ? t.anonymous : t.callerScopes(caller.scopes)) : ''}
        </div>
        <KeyField
          onChange={() => {
            setCaller(undefined);
            setSession(session + 1);
          }}
        />
      </header>
      {liveRefusal ? <ErrorNote error={liveRefusal} /> : null}
      <main class="panes" key={session}>
        <section class="tree" aria-label={t.orgTree}>
          <h2>{t.orgTree}</h2>
          <ul class="level root">
            {/* A key limited to department subtrees starts from those departments. */}
            {(caller?.departments ?? [ROOT_DEPARTMENT]).map((id) => (
              <DepartmentNode key={id} id={id} name="" memberCount={0} expandable initiallyOpen onOpenMember={setOpenUserid} />
            ))}
          </ul>
        </section>
        <section class="side">
          <h2>{t.people}</h2>
          <PeoplePicker onOpenMember={setOpenUserid} />
          {openUserid ? (
            <MemberCard userid={openUserid} caller={caller} onClose={() => setOpenUserid(undefined)} onOpenMember={setOpenUserid} />
          ) : null}
          {recent.length ? (
            <section class="recent" aria-label={t.recentChanges}>
              <h3>{t.recentChanges}</h3>
              <ul>
                {recent.map((c) => (
                  <li key={c.cursor}>{t.change(c.kind, c.userid ?? (c.departmentId != null ? `#${c.departmentId}` : ''))}</li>
                ))}
              </ul>
            </section>
          ) : null}
        </section>
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
