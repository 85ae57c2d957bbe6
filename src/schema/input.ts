import { GraphQLError } from 'graphql';

/** A caller mistake, named precisely; shown to the caller (it is not masked). */
export function badInput(message: string, field?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}) } });
}
