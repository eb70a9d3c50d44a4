// The paths the desktop window may hand to the engine. The renderer is not trusted: a script that
// got into it must not make the engine read or write any file it names. It gets the files and
// folders the user picked in the main process's own dialogs, dropped on the window or opened from
// the menu, the dock or the recent list, for what each was picked for (read, or write into).
import { resolve, sep } from 'node:path';

import type { Access } from '../app/dispatch';

export class PathGrants {
  private readonly granted: Record<Access, Set<string>> = { read: new Set(), write: new Set() };

  /** Allows `path` (a file, or a folder and everything in it) for `access`. */
  grant(path: string, access: Access): void {
    this.granted[access].add(resolve(path));
  }

  /** Whether `path` is a granted path or inside a granted folder (after resolving `..`). */
  allows(path: string, access: Access): boolean {
    const p = resolve(path);
    for (const g of this.granted[access]) {
      if (p === g || p.startsWith(g.endsWith(sep) ? g : g + sep)) return true;
    }
    return false;
  }
}
