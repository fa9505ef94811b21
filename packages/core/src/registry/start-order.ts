import { DependencyCycleError, MissingDependencyError, ServiceNotFoundError } from "../errors.ts";

/** The dependency graph as the planner sees it: names in registration order and each one's dependencies. */
export interface DependencyGraph {
  /** Every node, in the order ties are broken (registration order). */
  readonly names: readonly string[];
  /** Direct dependencies of `name`; `undefined` means `name` is not in the graph. */
  dependenciesOf(name: string): readonly string[] | undefined;
}

export interface PlanOptions {
  /** Plan only these and what they depend on. @default every node */
  roots?: readonly string[];
  /** Treat a dependency outside the graph as absent instead of throwing (used to plan stops). @default false */
  ignoreMissing?: boolean;
}

const WHITE = 0;
const GREY = 1;
const BLACK = 2;

/**
 * Groups the roots and everything they depend on into start levels: level 0
 * has no dependencies, level k depends only on levels below k. Services in one
 * level have no path between them and may start concurrently; inside a level
 * they keep the graph's order (registration order), so the plan is
 * deterministic. Stop order is the same levels reversed.
 * @throws {ServiceNotFoundError} when a root is not in the graph.
 * @throws {MissingDependencyError} naming the service and the dependency it lacks.
 * @throws {DependencyCycleError} with the path `a -> b -> ... -> a`.
 */
export function startLevels(graph: DependencyGraph, plan: PlanOptions | readonly string[] = {}): string[][] {
  // An array is the roots (the first form of this function, kept for callers).
  const options: PlanOptions = isRoots(plan) ? { roots: plan } : plan;
  const names = graph.names;
  const n = names.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set(names[i] as string, i);
  const adjacency: number[][] = [];
  // The first dependency each node lacks: it matters only if the node is planned.
  const missing = new Map<number, string>();
  for (let i = 0; i < n; i++) {
    const name = names[i] as string;
    const out: number[] = [];
    for (const dep of graph.dependenciesOf(name) ?? []) {
      const j = index.get(dep);
      if (j !== undefined) out.push(j);
      else if (options.ignoreMissing !== true && !missing.has(i)) missing.set(i, dep);
    }
    adjacency.push(out);
  }
  const nodes = Array.from({ length: n }, (_, i) => i);
  let roots: number[] | undefined;
  if (options.roots !== undefined) {
    roots = options.roots.map((root) => {
      const i = index.get(root);
      if (i === undefined) throw new ServiceNotFoundError(root);
      return i;
    });
  }
  if (missing.size > 0) {
    // Only what the roots reach is held back by a missing dependency (all of it without roots).
    const planned = roots === undefined ? undefined : reachable(roots, adjacency, n);
    for (let i = 0; i < n; i++) {
      const dep = missing.get(i);
      if (dep !== undefined && (planned === undefined || planned[i] === 1))
        throw new MissingDependencyError(names[i] as string, dep);
    }
  }
  const levels = nodeLevels(
    nodes,
    (i) => adjacency[i] as number[],
    (i) => i,
    (i) => names[i] as string,
    roots,
  );
  return levels.map((level) => level.map((i) => names[i] as string));
}

/**
 * The planner's core, over nodes whose dependencies are already resolved to
 * nodes (the registry passes its records, so planning needs no lookup by
 * name). `indexOf(node)` is the node's position in `nodes`, which is the tie
 * order. An iterative three-colour DFS on typed arrays: no recursion limit on
 * long chains, nothing allocated per node, every edge looked at once; the
 * first back edge gives the whole cycle path.
 * @throws {DependencyCycleError} with the path `a -> b -> ... -> a`.
 */
export function nodeLevels<T>(
  nodes: readonly T[],
  dependenciesOf: (node: T) => readonly T[],
  indexOf: (node: T) => number,
  nameOf: (node: T) => string,
  roots?: readonly T[],
): T[][] {
  const n = nodes.length;
  const colour = new Uint8Array(n);
  // Final level of a finished (black) node; running maximum of a grey one,
  // raised as each of its dependencies is found finished.
  const level = new Int32Array(n);
  let maxLevel = -1;
  // The DFS stack: nodes, their dependency lists, and the next dependency to look at.
  const stack: T[] = [];
  const indices: number[] = [];
  const lists: (readonly T[])[] = [];
  const next: number[] = [];
  const visit = (root: T, rootIndex: number): void => {
    colour[rootIndex] = GREY;
    stack.push(root);
    indices.push(rootIndex);
    lists.push(dependenciesOf(root));
    next.push(0);
    while (stack.length > 0) {
      const top = stack.length - 1;
      const node = indices[top] as number;
      const deps = lists[top] as readonly T[];
      const k = next[top] as number;
      if (k < deps.length) {
        next[top] = k + 1;
        const depNode = deps[k] as T;
        const dep = indexOf(depNode);
        const c = colour[dep];
        if (c === BLACK) {
          const l = (level[dep] as number) + 1;
          if (l > (level[node] as number)) level[node] = l;
          continue;
        }
        if (c === GREY) {
          const path = stack.slice(indices.indexOf(dep)).map(nameOf);
          throw new DependencyCycleError([...path, nameOf(depNode)]);
        }
        colour[dep] = GREY;
        stack.push(depNode);
        indices.push(dep);
        lists.push(dependenciesOf(depNode));
        next.push(0);
        continue;
      }
      const l = level[node] as number;
      if (l > maxLevel) maxLevel = l;
      colour[node] = BLACK;
      stack.pop();
      indices.pop();
      lists.pop();
      next.pop();
      if (top > 0) {
        const parent = indices[top - 1] as number;
        if (l + 1 > (level[parent] as number)) level[parent] = l + 1;
      }
    }
  };
  if (roots === undefined) {
    for (let i = 0; i < n; i++) if (colour[i] === WHITE) visit(nodes[i] as T, i);
  } else {
    for (const root of roots) {
      const i = indexOf(root);
      if (colour[i] === WHITE) visit(root, i);
    }
  }
  const levels: T[][] = Array.from({ length: maxLevel + 1 }, () => []);
  // Walking the nodes' own order fills each level in registration order.
  for (let i = 0; i < n; i++) if (colour[i] === BLACK) (levels[level[i] as number] as T[]).push(nodes[i] as T);
  return levels;
}

/** Marks (1) every node reachable from `roots` along dependency edges, roots included. */
function reachable(roots: readonly number[], adjacency: readonly (readonly number[])[], n: number): Uint8Array {
  const seen = new Uint8Array(n);
  const queue = [...roots];
  for (const root of roots) seen[root] = 1;
  for (let k = 0; k < queue.length; k++) {
    for (const j of adjacency[queue[k] as number] as readonly number[]) {
      if (seen[j] === 0) {
        seen[j] = 1;
        queue.push(j);
      }
    }
  }
  return seen;
}

function isRoots(plan: PlanOptions | readonly string[]): plan is readonly string[] {
  return Array.isArray(plan);
}

/** The first cycle in the graph as a path `[a, b, ..., a]`, or `undefined` when it is acyclic. Missing dependencies are ignored. */
export function findCycle(graph: DependencyGraph): string[] | undefined {
  try {
    startLevels(graph, { ignoreMissing: true });
    return undefined;
  } catch (error) {
    if (error instanceof DependencyCycleError) return [...error.cycle];
    throw error;
  }
}

/** For each name, the registered services that depend on it directly. */
export function dependentsMap(graph: DependencyGraph): Map<string, string[]> {
  const dependents = new Map<string, string[]>();
  for (const name of graph.names) {
    for (const dep of graph.dependenciesOf(name) ?? []) {
      let list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, (list = []));
      list.push(name);
    }
  }
  return dependents;
}

/**
 * `roots` and every registered service that depends on one of them, directly
 * or not (the services a stop of `roots` must stop first), in graph order.
 */
export function dependentsClosure(graph: DependencyGraph, roots: readonly string[]): string[] {
  const dependents = dependentsMap(graph);
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
