import { GraphQLError } from 'graphql';
import { builder } from './builder.ts';

/**
 * What Yoga hands a resolver for a file of a GraphQL multipart request (the upload spec Yoga
 * implements natively): a web `File`. Only the parts the service uses are named here.
 */
export interface UploadedFile {
  readonly name: string;
  readonly size: number;
  readonly type: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

builder.scalarType('File', {
  description: 'A file uploaded with the GraphQL multipart request spec (input only).',
  serialize: () => {
    throw new GraphQLError('File is input only');
  },
});
