import { builder } from './builder.ts';
import './scalars.ts';
import './refs.ts';
import './department.ts';
import './user.ts';
import './tag.ts';
import './search.ts';
import './user-ids.ts';
import './corp.ts';
import './visibility.ts';
import './linked-corp.ts';
import './upload.ts';
import './mutation-errors.ts';
import './user-mutations.ts';
import './invite-mutations.ts';
import './department-mutations.ts';
import './tag-mutations.ts';
import './import.ts';
import './export.ts';
import './contact-changed.ts';
import './entities.ts';
import { toSubgraphSchema } from './federation.ts';

// Every root field needs its scope (src/auth/scopes.ts); some fields add more (admin, whole corp, PII).
builder.queryType({ description: 'Reads of the WeCom directory.', authScopes: { read: true } });
builder.mutationType({
  description: 'Writes to the WeCom directory; each result is the payload or a typed error.',
  authScopes: { write: true },
});
builder.subscriptionType({ description: 'Live updates: job progress and directory changes.', authScopes: { read: true } });

/**
 * The executable schema: every type file above registers itself on the builder. It is also an
 * Apollo Federation subgraph (`_service`, `_entities`; federation.ts says why always on).
 */
export const schema = toSubgraphSchema();
