// Fallback chains: from an alias, its fallbacks in order, then theirs (breadth first, each
// alias once). An unknown alias or a cycle is a settings error.
import { ImproperlyConfigured } from "../errors.ts";

/** How to read the fallback graph of one kind of alias. */
export interface ChainGraph {
  /** The aliases `alias` fails over to (as written in its settings). */
  fallbacksOf(alias: string): readonly string[];
  /** Whether the alias exists. */
  has(alias: string): boolean;
  /** The error for an alias named in `from`'s list that does not exist. */
  unknown(alias: string, from: string): Error;
  /** Where `alias`'s list is, for messages: `fallbacks in PROVIDERS["a"]`. */
  where(alias: string): string;
}

/**
 * The chain of `start`: itself, its fallbacks in order, then the fallbacks of
 * those not yet in the chain, and so on (each alias once).
 *
 * @throws {ImproperlyConfigured} (or `graph.unknown`'s error) for an unknown
 * alias, or a cycle, naming the aliases.
 */
export function resolveChain(start: string, graph: ChainGraph): string[] {
  checkCycles(start, graph);
  const chain = [start];
  const seen = new Set(chain);
  for (let index = 0; index < chain.length; index++) {
    for (const next of graph.fallbacksOf(chain[index])) {
      if (!seen.has(next)) {
        seen.add(next);
        chain.push(next);
      }
    }
  }
  return chain;
}

/** Fails on an unknown alias or a cycle reachable from `start`. */
function checkCycles(start: string, graph: ChainGraph): void {
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (alias: string): void => {
    if (done.has(alias)) return;
    path.push(alias);
    onPath.add(alias);
    for (const next of graph.fallbacksOf(alias)) {
      if (!graph.has(next)) throw graph.unknown(next, alias);
      if (onPath.has(next)) {
        // Told from its first alias in sort order, so each alias of it reports the same cycle.
        const ring = path.slice(path.indexOf(next));
        const first = ring.indexOf([...ring].sort()[0]);
        const cycle = [...ring.slice(first), ...ring.slice(0, first), ring[first]];
        throw new ImproperlyConfigured(
          `${graph.where(ring[first])} makes a cycle: ${
            cycle.map((name) => `"${name}"`).join(" -> ")
          } (an alias must not fall back to itself, directly or through its fallbacks)`,
        );
      }
      visit(next);
    }
    path.pop();
    onPath.delete(alias);
    done.add(alias);
  };
  visit(start);
}
