import { describe, expect, it } from 'vitest';
import { ImportFileError, checkImportFile, departmentCsv, memberCsv } from '../../src/jobs/import-csv.ts';
import { neutraliseFormula } from 'wecom-protocol/csv';
import { readMemberFile } from 'wecom-emulator';
import { readPartyFile } from 'wecom-emulator';
import { EXPORT_KEY_LENGTH, newExportKey } from '../../src/jobs/export-records.ts';
import { aesKeyOf } from 'wecom-protocol/crypto';

describe('memberCsv', () => {
  it('writes the template header and one CRLF line per member, UTF-8 without a BOM', () => {
    const bytes = memberCsv([
      {
        userid: 'zhangsan',
        name: '张三',
        departmentIds: [2, 3],
        mobile: '+86 13800000000',
        gender: '1',
        isLeaderInDept: [true, false],
        order: [4294967295, 0],
        enable: false,
      },
      { userid: 'lisi', name: 'Li, "Si"', departmentIds: [4], email: 'lisi@example.com', position: '=cmd|calc', address: '北京\n海淀' },
    ]);
    expect(bytes[0]).not.toBe(0xef);
    expect(bytes.toString('utf8')).toBe(
      '姓名,帐号,手机号,邮箱,所在部门,职位,性别,是否部门内领导,排序,别名,地址,座机,禁用\r\n' +
        '张三,zhangsan,+86 13800000000,,2;3,,男,1;0,4294967295;0,,,,1\r\n' +
        '"Li, ""Si""",lisi,,lisi@example.com,4,\'=cmd|calc,,,,,"北京\n海淀",,\r\n',
    );
  });

  it('is read back by the emulator’s import parser as written', () => {
    const rows = readMemberFile(
      memberCsv([{ userid: 'a.b', name: '@home', departmentIds: [2], mobile: '-13800000000', telephone: '010-1,2' }]),
    );
    expect(rows).toEqual([
      {
        userid: 'a.b',
        cells: {
          name: "'@home",
          userid: 'a.b',
          mobile: '-13800000000',
          email: '',
          department: '2',
          position: '',
          gender: '',
          leader: '',
          order: '',
          alias: '',
          address: '',
          telephone: '010-1,2',
          disabled: '',
        },
      },
    ]);
  });

  it('neutralises only cells that start like a formula', () => {
    expect(['=1+2', '+SUM(A1)', '-2', '@x', '\tx', '\rx', 'a=b', '张三'].map(neutraliseFormula)).toEqual([
      "'=1+2",
      "'+SUM(A1)",
      "'-2",
      "'@x",
      "'\tx",
      "'\rx",
      'a=b',
      '张三',
    ]);
  });
});

describe('departmentCsv', () => {
  it('writes 部门名称,部门ID,父部门ID,排序, leaving an order of 0 empty ("do not change")', () => {
    const bytes = departmentCsv([
      { departmentId: 1, name: '总部', parentId: 0, order: 0 },
      { departmentId: 5, name: '研发', parentId: 1, order: 100 },
    ]);
    expect(bytes.toString('utf8')).toBe('部门名称,部门ID,父部门ID,排序\r\n总部,1,0,\r\n研发,5,1,100\r\n');
    expect(readPartyFile(bytes)).toEqual([
      { name: '总部', id: 1, parentid: 0, order: undefined },
      { name: '研发', id: 5, parentid: 1, order: 100 },
    ]);
  });
});

describe('checkImportFile', () => {
  const ok = (text: string) => Buffer.from(text, 'utf8');
  it('accepts a BOM, quoted header cells, LF line ends and the 账号 spelling', () => {
    expect(() => checkImportFile(ok('\ufeff"姓名",账号,邮箱,所在部门\nA,a,a@example.com,2\n'), 'members')).not.toThrow();
    expect(() => checkImportFile(ok('\n部门名称,部门ID,父部门ID\n总部,1,0\n'), 'departments')).not.toThrow();
  });

  it.each([
    ['5 bytes', Buffer.from('abcde'), /larger than 5 bytes/],
    ['invalid UTF-8', Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0x2c, 0x2c, 0x2c]), /not UTF-8/],
    ['no 所在部门', ok('姓名,帐号,邮箱\nA,a,a@example.com\n'), /no 所在部门 column/],
    ['only blank records', ok('姓名,帐号,邮箱,所在部门\n,,,\n\n'), /no records/],
    [
      'an unterminated quote in the first record',
      ok('姓名,帐号,邮箱,所在部门\n"A,a,a@example.com,2\n'),
      /not valid CSV: line 3: unterminated quoted field/,
    ],
  ])('refuses %s', (_what, bytes, message) => {
    expect(() => checkImportFile(bytes, 'members')).toThrow(ImportFileError);
    expect(() => checkImportFile(bytes, 'members')).toThrow(message);
  });
});

describe('newExportKey', () => {
  it('is 43 letters and digits, a valid 32-byte AES key, fresh every time', () => {
    const keys = new Set(Array.from({ length: 50 }, newExportKey));
    expect(keys.size).toBe(50);
    for (const key of keys) {
      expect(key).toMatch(/^[A-Za-z0-9]{43}$/);
      expect(aesKeyOf(key)).toHaveLength(32);
    }
    expect(EXPORT_KEY_LENGTH).toBe(43);
  });
});
