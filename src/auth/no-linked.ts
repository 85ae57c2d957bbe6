import DataLoader from 'dataloader';
import { LinkedLoaders, type LinkGroup, type LinkedDept, type LinkedMember } from '../loaders/linked.ts';

/**
 * Linked corps (互联企业) for a caller limited to department subtrees: none. Their departments
 * belong to other corps and lie outside any subtree of this corp, so such a caller sees no linked
 * corp, department or member, and the service makes no upstream call for them.
 */
export class NoLinkedLoaders extends LinkedLoaders {
  override readonly members = new DataLoader<string, LinkedMember[], string>(async (keys) => keys.map(() => []));
  override readonly user = new DataLoader<string, LinkedMember | null>(async (ids) => ids.map(() => null));

  override groups(): Promise<LinkGroup[]> {
    return Promise.resolve([]);
  }

  override department(): Promise<LinkedDept | null> {
    return Promise.resolve(null);
  }
}
