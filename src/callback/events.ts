import type { DirectoryChange } from '../directory/changes.ts';
import { CallbackRejection } from './rejection.ts';
import { type XmlElement, child, text } from './xml.ts';

/** A finished async job (batch_job_result, docs/wecom-api.md §9.7). */
export interface BatchJobResult {
  jobId: string;
  /** sync_user, replace_user, invite_user, replace_party, or an export type (export_user, …). */
  jobType: string;
  errcode: number;
  errmsg: string;
}

/** What one decrypted callback means to the service. */
export type CallbackEvent =
  | { type: 'change_contact'; changeType: string; changes: DirectoryChange[] }
  | { type: 'batch_job_result'; job: BatchJobResult; changes: DirectoryChange[] }
  /** Another event (an app's messages, menu clicks …): acknowledged, nothing to do. */
  | { type: 'other'; event: string };

/** Import jobs change the directory; their members' changes raise no change_contact (§9.6: the API's own changes are not echoed). */
const DIRECTORY_IMPORT_JOBS = new Set(['sync_user', 'replace_user', 'replace_party']);

/** `update_user` / `create_user` elements → the `WeComUser` field they carry (changedFields names). */
const USER_FIELDS: Record<string, string> = {
  NewUserID: 'userid',
  Name: 'name',
  Department: 'department',
  MainDepartment: 'mainDepartment',
  IsLeaderInDept: 'isLeaderInDept',
  DirectLeader: 'directLeader',
  Position: 'position',
  Mobile: 'mobile',
  Gender: 'gender',
  Email: 'email',
  BizMail: 'bizMail',
  Status: 'status',
  Avatar: 'avatar',
  Alias: 'alias',
  Telephone: 'telephone',
  Address: 'address',
  ExtAttr: 'extattr',
  EnglishName: 'englishName',
};

/**
 * The reduced post-2022-08-15 field sets carry only these on member events (§9.6); an update_user
 * with nothing else cannot say which other fields changed.
 */
const REDUCED_USER_ELEMENTS = new Set(['UserID', 'NewUserID', 'Department']);
const HEADER_ELEMENTS = new Set(['ToUserName', 'FromUserName', 'CreateTime', 'MsgType', 'Event', 'ChangeType', 'UserID']);

/**
 * Maps one decrypted event to directory changes (source 'callback'), for every ChangeType of
 * docs/wecom-api.md §9.6 in its full and its reduced form. An authentic event missing the id it is
 * about is `malformed_event`. A ChangeType this service does not know is read as "anything may
 * have changed" (DIRECTORY_RELOADED), so the cache never keeps what such a change made wrong.
 */
export function interpretEvent(xml: XmlElement): CallbackEvent {
  const event = text(xml, 'Event');
  if (xml['MsgType'] !== undefined && text(xml, 'MsgType') !== 'event') return { type: 'other', event: text(xml, 'MsgType') ?? '' };
  if (event === 'change_contact') {
    const changeType = text(xml, 'ChangeType') ?? '';
    return { type: 'change_contact', changeType, changes: [contactChange(xml, changeType)] };
  }
  if (event === 'batch_job_result') {
    const job = batchJob(xml);
    const changes: DirectoryChange[] = DIRECTORY_IMPORT_JOBS.has(job.jobType) ? [{ kind: 'DIRECTORY_RELOADED', source: 'import' }] : [];
    return { type: 'batch_job_result', job, changes };
  }
  return { type: 'other', event: event ?? '' };
}

function contactChange(xml: XmlElement, changeType: string): DirectoryChange {
  switch (changeType) {
    case 'create_user': {
      const departmentIds = idList(xml, 'Department');
      return { kind: 'USER_CREATED', userid: required(xml, 'UserID'), ...(departmentIds ? { departmentIds } : {}), source: 'callback' };
    }
    case 'update_user': {
      const userid = required(xml, 'UserID');
      const newUserid = text(xml, 'NewUserID');
      const departmentIds = idList(xml, 'Department');
      return {
        kind: 'USER_UPDATED',
        userid,
        ...(newUserid && newUserid !== userid ? { newUserid } : {}),
        ...(departmentIds ? { departmentIds } : {}),
        ...changedUserFields(xml),
        source: 'callback',
      };
    }
    case 'delete_user':
      return { kind: 'USER_DELETED', userid: required(xml, 'UserID'), source: 'callback' };
    case 'create_party':
    case 'update_party':
    case 'delete_party': {
      const departmentId = requiredId(xml, 'Id');
      const parentId = optionalId(xml, 'ParentId');
      const kind =
        changeType === 'create_party' ? 'DEPARTMENT_CREATED' : changeType === 'update_party' ? 'DEPARTMENT_UPDATED' : 'DEPARTMENT_DELETED';
      const changedFields =
        changeType === 'update_party'
          ? [...(text(xml, 'Name') ? ['name'] : []), ...(parentId !== undefined ? ['parentid'] : [])]
          : undefined;
      return {
        kind,
        departmentId,
        ...(parentId !== undefined ? { parentId } : {}),
        // An update_party naming neither may be a reduced event that withheld Name: unknown.
        ...(changedFields?.length ? { changedFields } : {}),
        source: 'callback',
      };
    }
    case 'update_tag': {
      const lists = {
        addedUserids: textList(xml, 'AddUserItems'),
        removedUserids: textList(xml, 'DelUserItems'),
        addedDepartmentIds: idList(xml, 'AddPartyItems'),
        removedDepartmentIds: idList(xml, 'DelPartyItems'),
      };
      const present = Object.fromEntries(Object.entries(lists).filter(([, v]) => v !== undefined));
      return { kind: 'TAG_MEMBERS_CHANGED', tagId: requiredId(xml, 'TagId'), ...present, source: 'callback' };
    }
    default:
      return { kind: 'DIRECTORY_RELOADED', source: 'callback' };
  }
}

/**
 * update_user carries each changed field, and only those (§9.6). When it carries nothing beyond
 * the reduced set (UserID, NewUserID, Department), it may be a reduced event that withheld the
 * rest: the changed fields are then unknown.
 */
function changedUserFields(xml: XmlElement): { changedFields?: string[] } {
  const elements = Object.keys(xml).filter((name) => !HEADER_ELEMENTS.has(name));
  if (elements.every((name) => REDUCED_USER_ELEMENTS.has(name))) return {};
  return { changedFields: elements.map((name) => USER_FIELDS[name] ?? name) };
}

function batchJob(xml: XmlElement): BatchJobResult {
  const job = child(xml, 'BatchJob');
  const jobId = job && text(job, 'JobId');
  if (!job || !jobId) throw new CallbackRejection('malformed_event');
  const errcode = Number(text(job, 'ErrCode') ?? 0);
  return {
    jobId,
    jobType: text(job, 'JobType') ?? '',
    errcode: Number.isInteger(errcode) ? errcode : -1,
    errmsg: text(job, 'ErrMsg') ?? '',
  };
}

function required(xml: XmlElement, name: string): string {
  const value = text(xml, name);
  if (!value) throw new CallbackRejection('malformed_event');
  return value;
}

function requiredId(xml: XmlElement, name: string): number {
  const id = optionalId(xml, name);
  if (id === undefined) throw new CallbackRejection('malformed_event');
  return id;
}

function optionalId(xml: XmlElement, name: string): number | undefined {
  const value = text(xml, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value)) throw new CallbackRejection('malformed_event');
  return Number(value);
}

/** Comma-separated text ("a,b,c"); undefined when the element is absent. */
function textList(xml: XmlElement, name: string): string[] | undefined {
  const value = text(xml, name);
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

/** Comma-separated ids ("1,2,3"); undefined when absent; malformed_event when not numbers. */
function idList(xml: XmlElement, name: string): number[] | undefined {
  const items = textList(xml, name);
  if (items === undefined) return undefined;
  if (!items.every((s) => /^\d{1,10}$/.test(s))) throw new CallbackRejection('malformed_event');
  return items.map(Number);
}
