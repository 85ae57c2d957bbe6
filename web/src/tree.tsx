import { useEffect, useRef, useState } from 'preact/hooks';
import { query } from './api.ts';
import { onChange } from './changes.ts';
import { ExplorerDepartmentDocument, type ExplorerDepartmentQuery } from './generated/graphql.ts';
import type { Change } from './live.ts';
import { t } from './i18n.ts';
import { ErrorNote, Initial } from './status.tsx';

type Level = NonNullable<ExplorerDepartmentQuery['department']>;

interface NodeProps {
  id: number;
  name: string;
  memberCount: number;
  expandable: boolean;
  initiallyOpen?: boolean;
  onOpenMember: (userid: string) => void;
}

/** Whether a change may alter what an expanded department shows (its members or sub-departments). */
function concerns(level: Level | undefined, id: number, change: Change): boolean {
  if (change.kind === 'DIRECTORY_RELOADED') return true;
  // Recursive member counts of every open level may change: a member joins, leaves or moves, a department moves.
  if (change.kind === 'USER_CREATED' || change.kind === 'USER_DELETED' || change.changedFields?.includes('department')) return true;
  if (change.kind === 'DEPARTMENT_UPDATED' && change.parentId != null) return true;
  if (change.departmentId === id || change.parentId === id || change.departmentIds?.includes(id)) return true;
  if (!level) return false;
  if (change.departmentId != null && level.children.some((c) => c.departmentId === change.departmentId)) return true;
  return change.userid != null && level.members.nodes.some((m) => m.userid === change.userid);
}

/** One department: its level is read with one query when first expanded, and again when a change concerns it. */
export function DepartmentNode({ id, name, memberCount, expandable, initiallyOpen = false, onOpenMember }: NodeProps) {
  const [open, setOpen] = useState(initiallyOpen);
  const [level, setLevel] = useState<Level>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(false);
  const [gone, setGone] = useState(false);
  const levelRef = useRef<Level | undefined>(undefined);
  levelRef.current = level;

  const load = async () => {
    setLoading(true);
    try {
      const data = await query(ExplorerDepartmentDocument, { id });
      if (data.department) setLevel(data.department);
      setGone(!data.department);
      setError(undefined);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    if (open && !level && !loading) void load();
  }, [open]);

  useEffect(
    () =>
      onChange((change) => {
        if (open && concerns(levelRef.current, id, change)) void load();
      }),
    [open, id],
  );

  const shown = level ?? { name, memberCount, members: { totalCount: 0, nodes: [] }, children: [] };
  return (
    <li class="dept" data-department-id={id}>
      <div class="dept-row">
        {expandable ? (
          <button
            type="button"
            class="toggle"
            aria-expanded={open}
            aria-label={open ? t.collapse : t.expand}
            onClick={() => setOpen(!open)}
          >
            {open ? '▾' : '▸'}
          </button>
        ) : (
          <span class="toggle-spacer" />
        )}
        <span class="dept-name">{shown.name}</span>
        <span class="count" title={t.members(shown.memberCount)}>
          {shown.memberCount}
        </span>
        {loading ? <span class="loading">{t.loading}</span> : null}
      </div>
      {error ? <ErrorNote error={error} /> : null}
      {gone ? <div class="muted">{t.departmentGone}</div> : null}
      {open && level && !gone ? (
        <ul class="level">
          {level.children.map((child) => (
            <DepartmentNode
              key={child.departmentId}
              id={child.departmentId}
              name={child.name}
              memberCount={child.memberCount}
              expandable={child.children.length > 0 || child.memberCount > 0}
              onOpenMember={onOpenMember}
            />
          ))}
          {level.members.nodes.length ? (
            <li class="members">
              <div class="members-caption">{t.directMembers(level.name, level.members.nodes.length, level.members.totalCount)}</div>
              <ul>
                {level.members.nodes.map((m) => (
                  <li key={m.userid}>
                    <button type="button" class="person" data-userid={m.userid} onClick={() => onOpenMember(m.userid)}>
                      <Initial name={m.name} />
                      <span class="person-name">{m.name}</span>
                      {m.position ? <span class="person-position">{m.position}</span> : null}
                    </button>
                  </li>
                ))}
              </ul>
            </li>
          ) : null}
        </ul>
      ) : null}
    </li>
  );
}
