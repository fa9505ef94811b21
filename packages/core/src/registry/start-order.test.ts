import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DependencyCycleError, MissingDependencyError, ServiceNotFoundError } from "../errors.ts";
import { dependentsClosure, findCycle, startLevels, type DependencyGraph } from "./start-order.ts";

function graph(edges: Record<string, string[]>): DependencyGraph {
  return { names: Object.keys(edges), dependenciesOf: (n) => edges[n] };
}

/** Random DAG: node i depends only on nodes with a smaller index; names registered in a shuffled order. */
const dagArb = fc
  .integer({ min: 1, max: 30 })
  .chain((n) =>
    fc.tuple(
      fc.array(fc.uniqueArray(fc.nat({ max: n - 1 }), { maxLength: 4 }), { minLength: n, maxLength: n }),
      fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    ),
  )
  .map(([deps, order]) => {
    const edges: Record<string, string[]> = {};
    for (const i of order) edges[`s${i}`] = (deps[i] ?? []).filter((d) => d < i).map((d) => `s${d}`);
    return edges;
  });

describe("startLevels", () => {
  it("puts dependencies in earlier levels and keeps registration order inside a level", () => {
    const levels = startLevels(graph({ web: ["api", "auth"], api: ["db"], auth: [], db: [], cache: [] }));
    expect(levels).toEqual([["auth", "db", "cache"], ["api"], ["web"]]);
  });

  it("plans only the roots and what they depend on", () => {
    expect(startLevels(graph({ a: ["b"], b: [], c: ["a"], d: [] }), ["a"])).toEqual([["b"], ["a"]]);
  });

  it("reports a cycle with the whole path, first name repeated", () => {
    const error = (() => {
      try {
        startLevels(graph({ a: ["b"], b: ["c"], c: ["a"] }));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DependencyCycleError);
    expect((error as DependencyCycleError).code).toBe("DEPENDENCY_CYCLE");
    expect((error as DependencyCycleError).message).toContain("a -> b -> c -> a");
    expect((error as DependencyCycleError).cycle).toEqual(["a", "b", "c", "a"]);
  });

  it("reports a self-dependency as a cycle of one", () => {
    expect(() => startLevels(graph({ a: ["a"] }))).toThrow("a -> a");
  });

  it("names both services on a missing dependency", () => {
    expect(() => startLevels(graph({ api: ["db"] }))).toThrow(MissingDependencyError);
    expect(() => startLevels(graph({ api: ["db"] }))).toThrow(/"api".*"db"/);
  });

  it("refuses an unknown root", () => {
    expect(() => startLevels(graph({ a: [] }), ["zz"])).toThrow(ServiceNotFoundError);
  });

  it("handles a chain of 20,000 without running out of stack", () => {
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < 20_000; i++) edges[`n${i}`] = i === 0 ? [] : [`n${i - 1}`];
    expect(startLevels(graph(edges))).toHaveLength(20_000);
  });

  it("property: every edge goes from a later level to an earlier one; every node is planned once", () => {
    fc.assert(
      fc.property(dagArb, (edges) => {
        const levels = startLevels(graph(edges));
        const levelOf = new Map<string, number>();
        levels.forEach((level, i) => level.forEach((n) => levelOf.set(n, i)));
        expect(levelOf.size).toBe(Object.keys(edges).length);
        expect(levels.flat()).toHaveLength(Object.keys(edges).length);
        for (const [name, deps] of Object.entries(edges)) {
          for (const d of deps) expect(levelOf.get(d)).toBeLessThan(levelOf.get(name) as number);
        }
        // Ties inside a level follow registration order.
        const order = Object.keys(edges);
        for (const level of levels)
          expect(level).toEqual([...level].sort((x, y) => order.indexOf(x) - order.indexOf(y)));
        expect(findCycle(graph(edges))).toBeUndefined();
      }),
    );
  });

  it("property: the stop order (levels reversed) has every dependent before its dependencies", () => {
    fc.assert(
      fc.property(dagArb, (edges) => {
        const stopOrder = startLevels(graph(edges)).reverse().flat();
        const pos = new Map(stopOrder.map((n, i) => [n, i]));
        for (const [name, deps] of Object.entries(edges)) {
          for (const d of deps) expect(pos.get(name)).toBeLessThan(pos.get(d) as number);
        }
      }),
    );
  });

  it("property: a cycle added to a DAG is always reported, with a path made of real edges", () => {
    fc.assert(
      fc.property(dagArb, fc.integer({ min: 1, max: 6 }), fc.nat(), (edges, length, seed) => {
        const names = Object.keys(edges);
        // Pick a chain of distinct nodes and close it into a cycle.
        const chain = Array.from(
          { length: Math.min(length, names.length) },
          (_, i) => names[(seed + i * 7) % names.length] as string,
        );
        const unique = [...new Set(chain)];
        const withCycle: Record<string, string[]> = {};
        for (const n of names) withCycle[n] = [...(edges[n] ?? [])];
        unique.forEach((n, i) => (withCycle[n] as string[]).push(unique[(i + 1) % unique.length] as string));
        let error: unknown;
        try {
          startLevels(graph(withCycle));
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(DependencyCycleError);
        const cycle = (error as DependencyCycleError).cycle;
        expect(cycle[0]).toBe(cycle[cycle.length - 1]);
        expect(new Set(cycle.slice(0, -1)).size).toBe(cycle.length - 1);
        for (let i = 0; i + 1 < cycle.length; i++) expect(withCycle[cycle[i] as string]).toContain(cycle[i + 1]);
        expect((error as Error).message).toContain(cycle.join(" -> "));
        expect(findCycle(graph(withCycle))).toEqual(cycle);
      }),
    );
  });
});

describe("dependentsClosure", () => {
  it("finds dependents of dependents, in graph order", () => {
    expect(dependentsClosure(graph({ db: [], api: ["db"], web: ["api"], other: [] }), ["db"])).toEqual([
      "db",
      "api",
      "web",
    ]);
  });
});
