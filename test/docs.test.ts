import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The docs are part of the code: comments cite docs/wecom-api.md and docs/architecture.md by
 * section, and the README and docs link to each other. These tests keep every citation and every
 * relative link pointing at something that exists.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Where code that may cite the docs lives (packages/ once the emulator is a workspace package). */
const CODE_ROOTS = ['src', 'packages', 'test', 'bench'];
const CODE_FILE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'generated', 'coverage']);

function walk(dir: string, keep: (path: string) => boolean): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const name of readdirSync(abs)) {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) {
      if (!SKIPPED_DIRS.has(name)) out.push(...walk(path, keep));
    } else if (keep(path)) out.push(path);
  }
  return out;
}

/** GitHub's heading anchors (github-slugger): lower case, punctuation dropped, spaces → hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(markdown).split('\n')) {
    const heading = /^#{1,6} +(.*?) *#* *$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Section numbers of a page's headings: `## 3. Members` → 3, `### 3.1 The member object` → 3.1. */
function sectionsOf(markdown: string): Set<string> {
  const sections = new Set<string>();
  for (const m of withoutFences(markdown).matchAll(/^#{1,6} +(\d+(?:\.\d+)*)\.? /gm)) sections.add(m[1]!);
  return sections;
}

/** Blanks fenced code blocks (keeping line count), where `#` lines and links are not markdown. */
function withoutFences(markdown: string): string {
  let fenced = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (/^ *```/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}

interface Citation {
  file: string;
  line: number;
  page: 'wecom-api' | 'architecture';
  section: string;
}

const SECTION_SIGN = '\u00a7';
/** A section sign and its number, e.g. `wecom-api.md <sign>9.2` or a bare `<sign>3.1`. */
const CITED = new RegExp(`${SECTION_SIGN} ?(\\d+(?:\\.\\d+)*)`, 'g');
/** What a citation may name before its sign; the nearest one on the line decides the page. */
const NAMED = /(?:shared\/|docs\/)?(wecom-api|design|architecture)\.md|RFC \d+/g;

/**
 * Every section citation in the code. A bare sign cites wecom-api.md (the code's convention); one
 * after `design.md` or `architecture.md` cites docs/architecture.md; one after `RFC n` is not ours.
 * Both today's spellings (`shared/wecom-api.md`, `shared/design.md`) and the docs/ ones are read.
 */
function citationsIn(file: string): Citation[] {
  const citations: Citation[] = [];
  read(file)
    .split('\n')
    .forEach((text, i) => {
      for (const m of text.matchAll(CITED)) {
        const before = text.slice(0, m.index);
        const named = [...before.matchAll(NAMED)].at(-1);
        if (named && !named[1]) continue;
        const page = named?.[1] === 'design' || named?.[1] === 'architecture' ? 'architecture' : 'wecom-api';
        citations.push({ file, line: i + 1, page, section: m[1]! });
      }
    });
  return citations;
}

const codeFiles = CODE_ROOTS.flatMap((dir) => walk(dir, (path) => CODE_FILE.test(path)));
const citations = codeFiles.flatMap(citationsIn);
const sections = { 'wecom-api': sectionsOf(read('docs/wecom-api.md')), architecture: sectionsOf(read('docs/architecture.md')) };

describe('section citations in the code', () => {
  it('are found (the scan reads the code at all)', () => {
    expect(codeFiles.length).toBeGreaterThan(100);
    expect(citations.filter((c) => c.page === 'wecom-api').length).toBeGreaterThan(150);
    expect(citations.filter((c) => c.page === 'architecture').length).toBeGreaterThan(0);
  });

  it('each resolve to a numbered heading of the page they cite', () => {
    const unresolved = citations
      .filter((c) => !sections[c.page].has(c.section))
      .map((c) => `${c.file}:${c.line} cites ${c.page}.md ${SECTION_SIGN}${c.section}`);
    expect(unresolved).toEqual([]);
  });

  it('name docs/ pages that exist', () => {
    const missing: string[] = [];
    for (const file of codeFiles) {
      for (const m of read(file).matchAll(/\bdocs\/([\w-]+\.md)/g)) {
        if (!existsSync(join(ROOT, 'docs', m[1]!))) missing.push(`${file}: docs/${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

const pages = [
  'README.md',
  ...walk('docs', (path) => path.endsWith('.md')),
  ...walk('packages', (path) => /^packages\/[\w-]+\/README\.md$/.test(path)),
];

interface Link {
  page: string;
  target: string;
}

/** Inline links and images, and reference definitions, outside code blocks and code spans. */
function linksIn(page: string): Link[] {
  const text = withoutFences(read(page)).replace(/`[^`\n]*`/g, '');
  const targets = [
    ...[...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
    ...[...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!),
  ];
  return targets.map((target) => ({ page, target }));
}

const links = pages.flatMap(linksIn);
const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

describe('links in the README and docs/', () => {
  it('are found', () => {
    expect(pages).toContain('docs/wecom-api.md');
    expect(links.filter((l) => !isExternal(l.target)).length).toBeGreaterThan(20);
  });

  it('each point to a file that exists', () => {
    const broken = links
      .filter((l) => !isExternal(l.target) && !l.target.startsWith('#'))
      .map((l) => ({ ...l, path: relative(ROOT, resolve(ROOT, dirname(l.page), decodeURI(l.target.split('#')[0]!))) }))
      .filter((l) => !existsSync(join(ROOT, l.path)))
      .map((l) => `${l.page} → ${l.target}`);
    expect(broken).toEqual([]);
  });

  it('each point to a heading that exists when they name one', () => {
    const broken = links
      .filter((l) => !isExternal(l.target) && l.target.includes('#'))
      .filter((l) => {
        const [file, anchor] = l.target.split('#') as [string, string];
        const path = file ? join(dirname(l.page), decodeURI(file)) : l.page;
        if (!path.endsWith('.md') || !existsSync(join(ROOT, path))) return false;
        return !anchorsOf(read(path)).has(decodeURIComponent(anchor));
      })
      .map((l) => `${l.page} → ${l.target}`);
    expect(broken).toEqual([]);
  });
});

describe('the layer diagram of docs/architecture.md', () => {
  const diagram = /```mermaid\n([\s\S]*?)```/.exec(read('docs/architecture.md'))?.[1] ?? '';
  const arrows = [...diagram.matchAll(/^\s*(\w+)\s*(<-->|-->)\s*(?:\|"[^"]*"\|\s*)?(\w+)\s*$/gm)].flatMap((m) =>
    m[2] === '<-->' ? [`${m[1]} → ${m[3]}`, `${m[3]} → ${m[1]}`] : [`${m[1]} → ${m[3]}`],
  );

  it('has at most one arrow each way between two layers', () => {
    expect(arrows.filter((a, i) => arrows.indexOf(a) !== i)).toEqual([]);
  });

  it('draws the read path and the change path', () => {
    for (const arrow of ['http → schema', 'schema → loaders', 'loaders → directory', 'directory → client', 'client → wecom']) {
      expect(arrows).toContain(arrow);
    }
    for (const arrow of ['wecom → receiver', 'receiver → changes', 'changes → directory', 'changes → schema']) {
      expect(arrows).toContain(arrow);
    }
  });
});
