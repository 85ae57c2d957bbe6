import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.ts';
import { isValidOrder } from 'wecom-protocol/limits';

/** WeCom's `order` is uint32 (up to 4294967295), beyond GraphQL's signed 32-bit Int. */
builder.scalarType('WeComOrder', {
  description: 'A WeCom sort order: an unsigned 32-bit integer, 0 to 4294967295; larger sorts first.',
  serialize: (value) => {
    if (!isValidOrder(value)) throw new GraphQLError(`WeComOrder cannot represent ${String(value)}`);
    return value;
  },
  parseValue: (value) => {
    if (!isValidOrder(value)) throw new GraphQLError('WeComOrder must be an integer from 0 to 4294967295');
    return value;
  },
  parseLiteral: (ast) => {
    const n = ast.kind === Kind.INT ? Number(ast.value) : NaN;
    if (!isValidOrder(n)) throw new GraphQLError('WeComOrder must be an integer from 0 to 4294967295');
    return n;
  },
});
