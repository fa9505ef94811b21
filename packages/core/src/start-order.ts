import { DependencyCycleError, MissingDependencyError, ServiceNotFoundError } from "./errors.ts";

/** The dependency graph as the planner sees it: names in registration order and each one's dependencies. */
export interface DependencyGraph {
  /** Every node, in the order ties are broken (registration order). */
  readonly names: readonly string[];
  /** Direct dependencies of `name`; `undefined` means `name` is not in the graph. */
  dependenciesOf(name: string): readonly string[] | undefined;
}

const WHITE = 0;
const GREY = 1;
const BLACK = 2;

/**
 * Groups `roots` and everything they depend on into start levels: level 0 has
 * no dependencies, level k depends only on levels below k. Services in one
 * level have no path between them and may start concurrently; inside a level
 * they keep the graph's order (registration order), so the plan is
 * deterministic. Stop order is the same levels reversed.
 *
 * Iterative three-colour DFS (no recursion limit on long chains); the first
 * back edge gives the whole cycle path.
 * @throws {ServiceNotFoundError} when a root is not in the graph.
 * @throws {MissingDependencyError} naming the service and the dependency it lacks.
 * @throws {DependencyCycleError} with the path `a -> b -> ... -> a`.
 */
export function startLevels(graph: DependencyGraph, roots: readonly string[] = graph.names): string[][] {
  const level = new Map<string, number>();
  const colour = new Map<string, number>();
  let maxLevel = -1;
  // Explicit stack of [node, index of next dependency to visit].
  const stack: string[] = [];
  const next: number[] = [];
  for (const root of roots) {
    if ((colour.get(root) ?? WHITE) !== WHITE) continue;
    if (graph.dependenciesOf(root) === undefined) throw new ServiceNotFoundError(root);
    colour.set(root, GREY);
    stack.push(root);
    next.push(0);
    while (stack.length > 0) {
      const top = stack.length - 1;
      const node = stack[top] as string;
      const deps = graph.dependenciesOf(node) as readonly string[];
      const i = next[top] as number;
      if (i < deps.length) {
        next[top] = i + 1;
        const dep = deps[i] as string;
        const c = colour.get(dep) ?? WHITE;
        if (c === BLACK) continue;
        if (c === GREY) throw new DependencyCycleError([...stack.slice(stack.indexOf(dep)), dep]);
        if (graph.dependenciesOf(dep) === undefined) throw new MissingDependencyError(node, dep);
        colour.set(dep, GREY);
        stack.push(dep);
        next.push(0);
        continue;
      }
      let l = 0;
      for (const dep of deps) l = Math.max(l, (level.get(dep) as number) + 1);
      level.set(node, l);
      if (l > maxLevel) maxLevel = l;
      colour.set(node, BLACK);
      stack.pop();
      next.pop();
    }
  }
  const levels: string[][] = Array.from({ length: maxLevel + 1 }, () => []);
  // Walking the graph's own order fills each level in registration order.
  if (level.size === graph.names.length) {
    for (const name of graph.names) (levels[level.get(name) as number] as string[]).push(name);
  } else {
    for (const name of graph.names) {
      const l = level.get(name);
      if (l !== undefined) (levels[l] as string[]).push(name);
    }
  }
  return levels;
}

/** The first cycle in the graph as a path `[a, b, ..., a]`, or `undefined` when it is acyclic. Missing dependencies are ignored. */
export function findCycle(graph: DependencyGraph): string[] | undefined {
  const known: DependencyGraph = {
    names: graph.names,
    dependenciesOf: (name) => graph.dependenciesOf(name)?.filter((d) => graph.dependenciesOf(d) !== undefined),
  };
  try {
    startLevels(known);
    return undefined;
  } catch (error) {
    if (error instanceof DependencyCycleError) return [...error.cycle];
    throw error;
  }
}

/**
 * `roots` and every registered service that depends on one of them, directly
 * or not (the services a stop of `roots` must stop first), in graph order.
 */
export function dependentsClosure(graph: DependencyGraph, roots: readonly string[]): string[] {
  const dependents = new Map<string, string[]>();
  for (const name of graph.names) {
    for (const dep of graph.dependenciesOf(name) ?? []) {
      let list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, (list = []));
      list.push(name);
    }
  }
  const seen = new Set<string>(roots);
  const queue = [...roots];
  for (let i = 0; i < queue.length; i++) {
    for (const d of dependents.get(queue[i] as string) ?? []) {
      if (!seen.has(d)) {
        seen.add(d);
        queue.push(d);
      }
    }
  }
  return graph.names.filter((n) => seen.has(n));
}
