import { builder } from './builder.ts';
import './scalars.ts';
import './refs.ts';
import './department.ts';
import './user.ts';
import './tag.ts';
import './search.ts';
import './user-ids.ts';
import './corp.ts';
import './linked-corp.ts';

builder.queryType({ description: 'Reads of the WeCom directory.' });

/** The executable schema: every type file above registers itself on the builder. */
export const schema = builder.toSchema({ sortSchema: true });
