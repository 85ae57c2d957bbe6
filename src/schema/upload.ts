import { GraphQLError } from 'graphql';
import { builder } from './builder.ts';

builder.scalarType('File', {
  description: 'A file uploaded with the GraphQL multipart request spec (input only).',
  serialize: () => {
    throw new GraphQLError('File is input only');
  },
});
