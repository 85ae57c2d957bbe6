import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { GraphiQLOptions } from 'graphql-yoga';
import { CSRF_HEADERS } from '../security/plugins.ts';

/**
 * GraphiQL from the installed `@graphql-yoga/graphiql` package, served by the service itself:
 * Yoga's default page loads its scripts from unpkg.com and its icon from GitHub, which intranets
 * (and often mainland China) cannot reach, leaving "Loading…" forever.
 */

/** Where the page's assets are served (the package's dist/ folder and our bootstrap script). */
export const GRAPHIQL_ASSETS_PATH = '/graphiql/assets/';

/** The package's dist/ folder: the ES bundle, its CSS and Monaco's workers. */
export function graphiqlDistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@graphql-yoga/graphiql/package.json')), 'dist');
}

/** Where graphiql.css's data: URLs are served as files. */
const INLINED_PATH = 'inline/';

const EXTENSIONS: Record<string, string> = {
  'font/woff2': 'woff2',
  'font/woff': 'woff',
  'font/ttf': 'ttf',
  'image/png': 'png',
  'image/svg+xml': 'svg',
};

/**
 * graphiql.css embeds its icon fonts and a few images as base64 data: URLs, which a CSP of this
 * origin only refuses. They become files of this origin, named by their content's hash (so they
 * can be cached for good), and the CSS points at them.
 */
export class InlinedAssets {
  private readonly files = new Map<string, { type: string; body: Buffer }>();
  private rewritten?: string;

  constructor(private readonly cssFile: string) {}

  /** The CSS with every base64 data: URL replaced by a path under GRAPHIQL_ASSETS_PATH. */
  css(): string {
    this.rewritten ??= readFileSync(this.cssFile, 'utf8').replace(
      /url\((["']?)data:([a-z]+\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=]+)\1\)/g,
      (_m, _q: string, type: string, data: string) => {
        const body = Buffer.from(data, 'base64');
        const name = `${createHash('sha256').update(body).digest('hex').slice(0, 16)}.${EXTENSIONS[type] ?? 'bin'}`;
        this.files.set(name, { type, body });
        return `url(${GRAPHIQL_ASSETS_PATH}${INLINED_PATH}${name})`;
      },
    );
    return this.rewritten;
  }

  /** A file taken out of the CSS, by its path below GRAPHIQL_ASSETS_PATH (e.g. `inline/ab12….woff2`). */
  file(path: string): { type: string; body: Buffer } | undefined {
    if (!path.startsWith(INLINED_PATH)) return undefined;
    this.css();
    return this.files.get(path.slice(INLINED_PATH.length));
  }
}

/** The bootstrap script (no inline script: the CSP allows only files of this origin). */
export const GRAPHIQL_BOOT_SCRIPT = readFileSync(new URL('./graphiql-boot.js', import.meta.url), 'utf8');

const EXAMPLES = new URL('../../examples/', import.meta.url);

/** The first tabs a newcomer sees: the operations a frontend uses most, with variables that work on the demo org. */
const DEFAULT_TABS: { file: string; variables: Record<string, unknown>; note?: string }[] = [
  { file: 'org-tree.graphql', variables: { rootId: 1, membersPerDepartment: 5 } },
  { file: 'people-picker.graphql', variables: { query: 'zhang', first: 10 } },
  {
    file: 'user-card.graphql',
    variables: { userid: 'zhangwei' },
    note: '# Replace the userid in Variables with one the people picker tab found.\n',
  },
];

function defaultTabs(): NonNullable<GraphiQLOptions['defaultTabs']> {
  // An image that ships without examples/ gets GraphiQL's own empty tab rather than a crash.
  return DEFAULT_TABS.filter(({ file }) => existsSync(new URL(file, EXAMPLES))).map(({ file, variables, note }) => ({
    query: (note ?? '') + readFileSync(new URL(file, EXAMPLES), 'utf8'),
    variables: JSON.stringify(variables, null, 2),
  }));
}

/** Yoga's `graphiql` option: the page's settings (endpoint and subscription protocol are Yoga's defaults). */
export function graphiqlOptions(): GraphiQLOptions & { query?: string; variables?: string } {
  const tabs = defaultTabs();
  return {
    title: 'WeCom directory',
    defaultTabs: tabs,
    // Yoga's page fills the first tab with its welcome text unless given the first tab's contents.
    query: tabs[0]?.query ?? '',
    variables: tabs[0]?.variables ?? '{}',
    // The CSRF check (src/security/plugins.ts) wants one of these on every request, subscriptions included.
    additionalHeaders: { [CSRF_HEADERS[0]!]: 'graphiql' },
    subscriptionsProtocol: 'SSE',
  };
}

/** `</script>` inside the JSON would end the data block early. */
const scriptSafeJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/**
 * Yoga's `renderGraphiQL`: a page with no inline script or style. The options travel in a JSON
 * data block that graphiql-boot.js reads; everything else comes from GRAPHIQL_ASSETS_PATH.
 */
export function renderGraphiQL(options: GraphiQLOptions): string {
  const title = (options.title ?? 'GraphiQL').replace(/[<&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${GRAPHIQL_ASSETS_PATH}graphiql.css">
<script type="application/json" id="graphiql-options">${scriptSafeJson(options)}</script>
<script type="module" src="${GRAPHIQL_ASSETS_PATH}boot.js"></script>
</head>
<body class="no-focus-outline">
<noscript>GraphiQL needs JavaScript.</noscript>
<div id="root">Loading ${title}…</div>
</body>
</html>
`;
}
