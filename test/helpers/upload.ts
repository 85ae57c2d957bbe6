import type { GraphQLResult, ServiceHarness } from './service.ts';

/** A GraphQL multipart request (the upload spec): operations, map, and the file as part "0". */
export async function upload(
  service: ServiceHarness,
  query: string,
  variables: Record<string, unknown>,
  file: Blob,
  filename = 'import.csv',
  headers: Record<string, string> = {},
): Promise<GraphQLResult> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables: { ...variables, file: null } }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', file, filename);
  const res = await service.app.yoga.fetch('http://yoga/graphql', { method: 'POST', body: form, headers });
  return (await res.json()) as GraphQLResult;
}

/** CSV text as an uploadable file (UTF-8). */
export const csv = (text: string) => new Blob([Buffer.from(text, 'utf8')], { type: 'text/csv' });
