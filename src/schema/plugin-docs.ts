/**
 * Descriptions of the types and fields that Pothos plugins generate (Relay's Node, PageInfo,
 * connections, edges and paging arguments; the errors plugin's result unions and Success types),
 * so that GraphiQL documents them like the hand-written ones (issue 5). Descriptions only: no
 * option here changes a name, a type, nullability or a resolver. builder.ts spreads them into
 * the plugin options; mutations give their own texts through `mutationErrors` (mutation-errors.ts).
 */

/** `relay` builder options (@pothos/plugin-relay RelayPluginOptions): descriptions only. */
export const RELAY_DOCS = {
  nodeTypeOptions: {
    description:
      'An object with a global id (Relay). Any Node can be fetched again by that id with `Query.node` or `Query.nodes`. ' +
      'User, Department, Tag, LinkedCorp, LinkedDepartment and LinkedUser are Nodes.',
  },
  idFieldOptions: {
    description:
      'Global id (Relay): opaque, stable, unique across all types; pass it to `Query.node(id:)`. ' +
      'It is not the WeCom id: use the type’s own field for that (userid, departmentId, tagId …).',
  },
  nodeQueryOptions: {
    description: 'Any Node by its global id (Relay refetching); null when it does not exist or this service cannot see it.',
    args: { id: { description: 'A global id read from an `id` field (not a WeCom userid or department id).' } },
  },
  nodesQueryOptions: {
    description: 'Several Nodes by global id, in the order asked; null for each one that does not exist or this service cannot see.',
    args: { ids: { description: 'Global ids read from `id` fields (not WeCom userids or department ids).' } },
  },
  pageInfoTypeOptions: {
    description: 'Where a page sits in its list (Relay): whether items follow or precede it, and the cursors of its first and last items.',
    // Relay's PageInfo is the same in every subgraph of a supergraph: shareable, so another Relay
    // subgraph's PageInfo composes with ours (docs/supergraph.md).
    shareable: true,
  },
  hasNextPageFieldOptions: { description: 'True when more items follow this page: ask for them with `after: endCursor`.' },
  hasPreviousPageFieldOptions: {
    description: 'True when items precede this page in the list: page back with `before: startCursor` where the list allows it.',
  },
  startCursorFieldOptions: {
    description: 'Cursor of the first item of this page (pass as `before` to page backwards); null when the page is empty.',
  },
  endCursorFieldOptions: {
    description: 'Cursor of the last item of this page (pass as `after` for the next page); null when the page is empty.',
  },
  pageInfoFieldOptions: { description: 'Paging state: whether more items follow or precede this page, and the cursors to continue from.' },
  edgesFieldOptions: { description: 'The items of this page with their cursors, in list order.' },
  nodesOnConnection: { description: 'The items of this page in list order (the `node` of each edge), for clients that need no cursors.' },
  cursorFieldOptions: {
    description:
      'Opaque position of this item: pass it as `after` (or `before`) to continue from here. Valid only for the same list and arguments.',
  },
  nodeFieldOptions: { description: 'The item at this position.' },
  firstArgOptions: { description: 'Page forward: at most this many items after `after`. Each list documents its default and maximum.' },
  afterArgOptions: {
    description: 'Continue after this cursor (an `endCursor` or edge `cursor` of the same list); from the start when omitted.',
  },
  lastArgOptions: { description: 'Page backward: at most this many items before `before` (lists that page forward only refuse it).' },
  beforeArgOptions: { description: 'Continue backward from this cursor (a `startCursor` or edge `cursor` of the same list).' },
};

/** `errors` builder options (@pothos/plugin-errors): the fallback texts of a mutation without its own. */
export const ERRORS_DOCS = {
  defaultResultOptions: { description: 'The mutation succeeded; its payload is under `data`.' },
  defaultUnionOptions: {
    description:
      "A mutation's outcome: its Success type (payload under `data`), or one of the types implementing `Error` saying why it failed.",
  },
};
