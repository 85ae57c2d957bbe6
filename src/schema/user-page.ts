import { offsetForArgs, offsetToCursor } from '@pothos/plugin-relay';
import type { WeComUser } from '../wecom/users.ts';
import type { UserList } from '../directory/search.ts';

/** Relay arguments are bounded: a page holds at most this many users. */
export const MAX_PAGE_SIZE = 500;

export interface PageArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

/**
 * A page of a UserConnection, as Pothos' resolveArrayConnection cuts it (same offsets, same
 * cursors), with its edges and cursors made only when a query asks for them: the org tree asks
 * for `nodes` of 2,000 pages, and an edge object and two base64 cursors per member were a large
 * share of that answer's garbage.
 */
export class UserPage {
  readonly nodes: WeComUser[];
  readonly totalCount: number;
  private readonly offset: number;
  private readonly hasPreviousPage: boolean;
  private readonly hasNextPage: boolean;

  constructor(users: UserList, args: PageArgs) {
    const window = offsetForArgs({ args, defaultSize: 50, maxSize: MAX_PAGE_SIZE, totalCount: users.length });
    const cut = users.slice(window.offset, window.offset + window.limit);
    this.totalCount = users.length;
    this.offset = window.offset;
    this.hasPreviousPage = window.hasPreviousPage;
    this.hasNextPage = window.hasNextPage(cut.length);
    this.nodes = cut.length > window.expectedSize ? cut.slice(0, window.expectedSize) : cut;
  }

  get edges(): { cursor: string; node: WeComUser }[] {
    return this.nodes.map((node, i) => ({ cursor: offsetToCursor(this.offset + i), node }));
  }

  get pageInfo() {
    return {
      startCursor: offsetToCursor(this.offset),
      endCursor: offsetToCursor(this.offset + this.nodes.length - 1),
      hasPreviousPage: this.hasPreviousPage,
      hasNextPage: this.hasNextPage,
    };
  }
}
