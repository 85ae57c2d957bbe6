import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { query, type Caller } from './api.ts';
import { onChange } from './changes.ts';
import { ExplorerCardDocument, type ExplorerCardQuery } from './generated/graphql.ts';
import { t } from './i18n.ts';
import { ErrorNote, Initial } from './status.tsx';

type Member = NonNullable<ExplorerCardQuery['user']>;

/** Personal fields: null for a caller without directory:pii, whatever WeCom holds (src/schema/pii.ts). */
const PII_FIELDS = ['mobile', 'email', 'bizMail', 'telephone', 'address'] as const;

/** How long "updated just now" stays after a live change. */
const UPDATED_BADGE_MS = 5_000;

function Value({ value, hidden }: { value: string | null | undefined; hidden: boolean }) {
  if (value) return <span class="value">{value}</span>;
  // Null for a caller who may not see it means "hidden", not "empty": say which.
  if (hidden)
    return (
      <span class="value hidden" title={t.card.hiddenTitle} data-hidden="true">
        {t.card.hidden}
      </span>
    );
  return <span class="value empty">{t.card.empty}</span>;
}

/** A member's card; read again when a change names this member. */
export function MemberCard({
  userid,
  caller,
  onClose,
  onOpenMember,
}: {
  userid: string;
  caller?: Caller;
  onClose: () => void;
  onOpenMember: (userid: string) => void;
}) {
  const [member, setMember] = useState<Member | null>();
  const [error, setError] = useState<unknown>();
  const [updatedAt, setUpdatedAt] = useState(0);
  const current = useRef(userid);
  current.current = userid;

  const load = async (id: string) => {
    try {
      const data = await query(ExplorerCardDocument, { userid: id });
      if (current.current !== id) return;
      setMember(data.user);
      setError(undefined);
    } catch (err) {
      if (current.current === id) setError(err);
    }
  };

  useEffect(() => {
    setMember(undefined);
    setUpdatedAt(0);
    void load(userid);
  }, [userid]);

  useEffect(
    () =>
      onChange((change) => {
        if (change.kind === 'DIRECTORY_RELOADED' || change.userid === userid) {
          void load(change.newUserid ?? userid).then(() => setUpdatedAt(Date.now()));
        }
      }),
    [userid],
  );

  useEffect(() => {
    if (!updatedAt) return;
    const timer = setTimeout(() => setUpdatedAt(0), UPDATED_BADGE_MS);
    return () => clearTimeout(timer);
  }, [updatedAt]);

  const piiHidden = caller ? !caller.scopes.includes('directory:pii') : false;
  return (
    <section class="card" aria-label={member?.name ?? userid} data-userid={userid}>
      <button type="button" class="close" onClick={onClose} aria-label={t.card.close}>
        ×
      </button>
      {error ? <ErrorNote error={error} /> : null}
      {member === undefined && !error ? <div class="muted">{t.loading}</div> : null}
      {member === null ? <div class="muted">{t.card.notFound}</div> : null}
      {member ? (
        <>
          <header class="card-head">
            <Initial name={member.name} />
            <div>
              <h2 class="card-name">{member.name}</h2>
              <div class="muted">
                {member.userid}
                {member.alias ? ` · ${member.alias}` : ''}
              </div>
            </div>
            {updatedAt ? (
              <span class="badge" data-testid="updated">
                {t.card.updated}
              </span>
            ) : null}
          </header>
          <dl>
            <dt>{t.card.position}</dt>
            <dd data-field="position">
              <Value value={member.position} hidden={false} />
            </dd>
            <dt>{t.card.departments}</dt>
            <dd data-field="departments">
              {member.memberships.map((m) =>
                m.department ? (
                  <span class="chip" key={m.department.departmentId}>
                    {m.department.name}
                    {m.isLeader ? ` (${t.card.leader})` : ''}
                  </span>
                ) : null,
              )}
            </dd>
            {member.directLeaders.length ? (
              <>
                <dt>{t.card.leaders}</dt>
                <dd>
                  {member.directLeaders.map((l) => (
                    <button type="button" class="link" key={l.userid} onClick={() => onOpenMember(l.userid)}>
                      {l.name}
                    </button>
                  ))}
                </dd>
              </>
            ) : null}
            <dt>{t.card.status}</dt>
            <dd>{member.status ? (t.status[member.status] ?? member.status) : t.card.empty}</dd>
            <dt>{t.card.gender}</dt>
            <dd>{member.gender ? (t.gender[member.gender] ?? member.gender) : t.card.empty}</dd>
            {PII_FIELDS.map((field) => (
              <Fragment key={field}>
                <dt>{t.card[field]}</dt>
                <dd data-field={field}>
                  <Value value={member[field]} hidden={piiHidden} />
                </dd>
              </Fragment>
            ))}
            {member.externalPosition ? (
              <>
                <dt>{t.card.externalPosition}</dt>
                <dd>{member.externalPosition}</dd>
              </>
            ) : null}
            {member.tags.length ? (
              <>
                <dt>{t.card.tags}</dt>
                <dd>
                  {member.tags.map((tag) => (
                    <span class="chip" key={tag.tagId}>
                      {tag.name}
                    </span>
                  ))}
                </dd>
              </>
            ) : null}
          </dl>
        </>
      ) : null}
    </section>
  );
}
