import { randomInt } from 'node:crypto';
import { parseUser, type WeComUser } from '../wecom/users.ts';
import type { WeComDepartment } from '../wecom/departments.ts';

/** What an export job exports (docs/wecom-api.md §7), one WeCom endpoint each. */
export type ExportKind = 'users' | 'userDetails' | 'departments' | 'tagMembers';

/** One exported record, tagged with what it is. */
export type ExportRecord =
  | { type: 'user'; user: WeComUser }
  | { type: 'department'; department: WeComDepartment }
  | { type: 'tagUser'; userid: string; name: string }
  | { type: 'tagDepartment'; departmentId: number };

export interface ExportContents {
  records: ExportRecord[];
  /** The tag's name (tag exports only). */
  tagName?: string;
}

type Document = Record<string, unknown>;

const listOf = (doc: Document, key: string): unknown[] => {
  const value = doc[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TypeError(`the export file's ${key} is not a list`);
  return value;
};

/**
 * The records of an export's decrypted files (keys already camelCase), in file order. File
 * contents per kind (§7): simple_user and user → `{userlist}` (simple_user items are a subset of
 * user/list items, so both become members), department → `{department}`, taguser → `{tagname,
 * userlist, partylist}` with users and departments together counting towards a file's block.
 */
export function exportContents(kind: ExportKind, documents: readonly Document[]): ExportContents {
  const records: ExportRecord[] = [];
  let tagName: string | undefined;
  for (const doc of documents) {
    switch (kind) {
      case 'users':
      case 'userDetails':
        for (const u of listOf(doc, 'userlist')) records.push({ type: 'user', user: parseUser(u) });
        break;
      case 'departments':
        for (const d of listOf(doc, 'department')) {
          const department = { ...(d as WeComDepartment) };
          department.departmentLeader ??= [];
          records.push({ type: 'department', department });
        }
        break;
      case 'tagMembers':
        if (typeof doc.tagname === 'string') tagName = doc.tagname;
        for (const u of listOf(doc, 'userlist') as { userid: string; name?: string }[]) {
          records.push({ type: 'tagUser', userid: u.userid, name: u.name ?? u.userid });
        }
        for (const id of listOf(doc, 'partylist')) records.push({ type: 'tagDepartment', departmentId: Number(id) });
        break;
    }
  }
  return tagName === undefined ? { records } : { records, tagName };
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** `encoding_aeskey`: 43 characters of [A-Za-z0-9] (§7), i.e. a 32-byte AES key in base64 without its "=". */
export const EXPORT_KEY_LENGTH = 43;

/** A fresh export key from the CSPRNG, one per job: nobody else can read the job's files. */
export function newExportKey(): string {
  let key = '';
  for (let i = 0; i < EXPORT_KEY_LENGTH; i++) key += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)];
  return key;
}
