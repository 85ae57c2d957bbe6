import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
  type GraphQLArgument,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';

/**
 * Issue 5: GraphiQL shows the documented schema. Every type, field, input field, argument (of
 * root fields and of nested ones such as `Department.members(recursive:)`) and enum value must
 * carry a description, the generated ones (Relay Node, PageInfo, connections, edges and paging
 * arguments; errors-plugin result unions and Success types) included. Built-in scalars and
 * introspection types are GraphQL's own.
 */

function hasText(description: string | null | undefined): boolean {
  return typeof description === 'string' && description.trim().length > 0;
}

function ownTypes(of: GraphQLSchema): GraphQLNamedType[] {
  return Object.values(of.getTypeMap()).filter((type) => !isIntrospectionType(type) && !isSpecifiedScalarType(type));
}

function undescribedArguments(owner: string, field: string, args: readonly GraphQLArgument[]): string[] {
  return args.filter((arg) => !hasText(arg.description)).map((arg) => `argument ${owner}.${field}(${arg.name})`);
}

/** Every place in the schema that lacks a description, named the way GraphiQL shows it. */
function undescribed(of: GraphQLSchema): string[] {
  const missing: string[] = [];
  for (const type of ownTypes(of)) {
    if (!hasText(type.description)) missing.push(`type ${type.name}`);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!hasText(field.description)) missing.push(`field ${type.name}.${field.name}`);
        missing.push(...undescribedArguments(type.name, field.name, field.args));
      }
    }
    if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!hasText(field.description)) missing.push(`input field ${type.name}.${field.name}`);
      }
    }
    if (isEnumType(type)) {
      for (const value of type.getValues()) {
        if (!hasText(value.description)) missing.push(`enum value ${type.name}.${value.name}`);
      }
    }
  }
  return missing.sort();
}

describe('schema descriptions (GraphiQL documentation)', () => {
  it('describes every type, field, input field, argument and enum value', () => {
    expect(undescribed(schema)).toEqual([]);
  });

  it('covers the generated Relay and errors-plugin types too', () => {
    // Guards the walk itself: these generated types exist, so the check above really looked at them.
    const names = ownTypes(schema).map((type) => type.name);
    expect(names).toEqual(expect.arrayContaining(['Node', 'PageInfo', 'UserConnection', 'UserEdge']));
    expect(names.some((name) => /^Mutation\w+Result$/.test(name))).toBe(true);
    expect(names.some((name) => /^Mutation\w+Success$/.test(name))).toBe(true);
  });

  it('reports each kind of undescribed place (the walk itself)', () => {
    const bare = buildSchema(`
      type Query { user(id: ID): User, node: Node, pick: Pick }
      interface Node { id: ID! }
      type User implements Node { id: ID!, name(upper: Boolean): String }
      union Pick = User
      input Filter { text: String }
      enum Color { RED }
      scalar Order
      type Mutation { find(filter: Filter, color: Color, order: Order): User }
    `);
    expect(undescribed(bare)).toEqual(
      [
        'type Query',
        'field Query.user',
        'argument Query.user(id)',
        'field Query.node',
        'field Query.pick',
        'type Node',
        'field Node.id',
        'type User',
        'field User.id',
        'field User.name',
        'argument User.name(upper)',
        'type Pick',
        'type Filter',
        'input field Filter.text',
        'type Color',
        'enum value Color.RED',
        'type Order',
        'type Mutation',
        'field Mutation.find',
        'argument Mutation.find(filter)',
        'argument Mutation.find(color)',
        'argument Mutation.find(order)',
      ].sort(),
    );
  });

  it('gives each mutation its own result texts, not only the generic fallback', () => {
    // The errors plugin's defaults (plugin-docs.ts) are a fallback; every mutation names its own outcome.
    const mutation = schema.getMutationType();
    expect(mutation).toBeDefined();
    const generic: string[] = [];
    for (const field of Object.values(mutation!.getFields())) {
      const union = field.type.toString().replace(/!$/, '');
      const success = union.replace(/Result$/, 'Success');
      const resultDescription = schema.getType(union)?.description ?? '';
      const successDescription = schema.getType(success)?.description ?? '';
      if (!resultDescription.includes(`\`${field.name}\``) || !successDescription.includes(`\`${field.name}\``)) generic.push(field.name);
    }
    expect(generic).toEqual([]);
  });
});
