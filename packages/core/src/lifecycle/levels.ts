import type { ServiceFailure } from "../errors.ts";
import type { ServiceRecord } from "../registry/service-record.ts";
import { startLevels, type DependencyGraph } from "../registry/start-order.ts";

/** The exact reverse of a start plan: last level first, and inside a level the reverse of the call order. */
export function reversed<T>(levels: readonly (readonly T[])[]): T[][] {
  const out: T[][] = [];
  for (let i = levels.length - 1; i >= 0; i--) out.push([...(levels[i] as readonly T[])].reverse());
  return out;
}

/** Adds a level's failures to `failures` in the level's order (or its reverse), whatever order they came in. */
export function collect(
  level: readonly ServiceRecord[],
  errors: Map<string, Error>,
  failures: ServiceFailure[],
  backwards = false,
): void {
  for (let k = 0; k < level.length; k++) {
    const record = level[backwards ? level.length - 1 - k : k] as ServiceRecord;
    const error = errors.get(record.name);
    if (error !== undefined) failures.push({ service: record.name, error });
  }
  errors.clear();
}

/** Levels of a graph that may hold a cycle (services changed by hot swaps): then registration order, one by one. */
export function safeLevels(graph: DependencyGraph): string[][] {
  try {
    return startLevels(graph, { ignoreMissing: true });
  } catch {
    // A cycle among registered services cannot block a stop: fall back to one service per level.
    return graph.names.map((n) => [n]);
  }
}
