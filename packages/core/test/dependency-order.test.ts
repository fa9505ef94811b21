import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DependencyCycleError, LifecycleAggregateError, MissingDependencyError, StartFailedError } from "@mk/core";
import { deferred, Recorder, testKernel } from "./helpers.ts";

describe("dependency order", () => {
  it("start(name) starts missing dependencies first and says so in the log", async () => {
    const { kernel, log } = testKernel();
    const rec = new Recorder();
    await kernel.register(rec.service("web", ["api"]));
    await kernel.register(rec.service("api", ["db"]));
    await kernel.register(rec.service("db"));
    await kernel.register(rec.service("other"));
    await kernel.start("web");
    expect(rec.of("start")).toEqual(["db", "api", "web"]);
    expect(kernel.status("other")).toBe("created");
    expect(log.lines()).toContain("[kernel] started web after its dependencies db, api");
    await kernel.close({ stopAll: true });
  });

  it("stop(name) stops running dependents first and says so in the log", async () => {
    const { kernel, log } = testKernel();
    const rec = new Recorder();
    await kernel.register(rec.service("db"));
    await kernel.register(rec.service("api", ["db"]));
    await kernel.register(rec.service("web", ["api"]));
    await kernel.register(rec.service("other"));
    await kernel.startAll();
    await kernel.stop("db");
    expect(rec.of("stop")).toEqual(["web", "api", "db"]);
    expect(kernel.status("other")).toBe("running");
    expect(log.lines()).toContain("[kernel] stopped db after its dependents web, api");
    await kernel.close({ stopAll: true });
  });

  it("startAll starts dependencies first; stopAll is the exact reverse", async () => {
    const { kernel } = testKernel();
    const rec = new Recorder();
    await kernel.register(rec.service("logger", ["echo"]));
    await kernel.register(rec.service("echo"));
    await kernel.register(rec.service("metrics", ["logger", "echo"]));
    await kernel.startAll();
    expect(rec.of("start")).toEqual(["echo", "logger", "metrics"]);
    await kernel.stopAll();
    expect(rec.of("stop")).toEqual(["metrics", "logger", "echo"]);
  });

  it("breaks ties by registration order, every time", async () => {
    for (const order of [
      ["c", "a", "b"],
      ["b", "c", "a"],
    ]) {
      const { kernel } = testKernel();
      const rec = new Recorder();
      for (const n of order) await kernel.register(rec.service(n));
      await kernel.startAll();
      expect(rec.of("start")).toEqual(order);
      await kernel.stopAll();
      expect(rec.of("stop")).toEqual([...order].reverse());
    }
  });

  it("starts services with no path between them concurrently", async () => {
    const { kernel } = testKernel();
    const gates = { a: deferred(), b: deferred() };
    const running = new Set<string>();
    let overlap = false;
    for (const name of ["a", "b"] as const) {
      await kernel.register({
        name,
        async start() {
          running.add(name);
          if (running.size === 2) overlap = true;
          await gates[name].promise;
          running.delete(name);
        },
      });
    }
    const all = kernel.startAll();
    await new Promise((r) => setImmediate(r));
    // Both starts are in progress at once; neither was waited for before the other began.
    expect(overlap).toBe(true);
    expect(kernel.status("a")).toBe("starting");
    expect(kernel.status("b")).toBe("starting");
    gates.b.resolve();
    gates.a.resolve();
    await all;
    await kernel.close({ stopAll: true });
  });

  it("detects a cycle before starting anything, with the whole path", async () => {
    const { kernel } = testKernel();
    const rec = new Recorder();
    await kernel.register(rec.service("free"));
    await kernel.register(rec.service("a", ["b"]));
    await kernel.register(rec.service("b", ["c"]));
    await kernel.register(rec.service("c", ["a"]));
    const error = await kernel.startAll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyCycleError);
    expect((error as Error).message).toContain("a -> b -> c -> a");
    await expect(kernel.start("free")).resolves.toBeUndefined();
    await expect(kernel.start("b")).rejects.toThrow("b -> c -> a -> b");
    expect(rec.of("start")).toEqual(["free"]);
    await kernel.close({ stopAll: true });
  });

  it("names both services on a missing dependency, before starting anything", async () => {
    const { kernel } = testKernel();
    const rec = new Recorder();
    await kernel.register(rec.service("db"));
    await kernel.register(rec.service("api", ["db", "cache"]));
    const error = await kernel.startAll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(error).toMatchObject({ code: "MISSING_DEPENDENCY", service: "api", dependency: "cache" });
    expect((error as Error).message).toContain('"api"');
    expect((error as Error).message).toContain('"cache"');
    expect(rec.calls).toEqual([]);
    await kernel.close();
  });

  it("a failed start holds back its dependents only; the rest start and stay running", async () => {
    const { kernel } = testKernel();
    const rec = new Recorder();
    await kernel.register(
      rec.service("db", [], {
        start: () => {
          throw new Error("no disk");
        },
      }),
    );
    await kernel.register(rec.service("cache"));
    await kernel.register(rec.service("api", ["db", "cache"]));
    await kernel.register(rec.service("web", ["api"]));
    await kernel.register(rec.service("metrics", ["cache"]));
    const error = await kernel.startAll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LifecycleAggregateError);
    const agg = error as LifecycleAggregateError;
    expect(agg.code).toBe("START_ALL_FAILED");
    expect(agg.failures.map((f) => f.service)).toEqual(["db"]);
    expect(agg.failures[0]?.error).toBeInstanceOf(StartFailedError);
    expect(agg.skipped).toEqual(["api", "web"]);
    expect(agg.message).toContain('db: service "db" failed to start: no disk');
    expect(agg.message).toContain("api, web");
    expect(Object.fromEntries(kernel.services().map((s) => [s.name, s.status]))).toEqual({
      db: "failed",
      cache: "running",
      api: "created",
      web: "created",
      metrics: "running",
    });
    expect(rec.of("start")).toEqual(["db", "cache", "metrics"]);
    await kernel.close({ stopAll: true });
  });

  it("a timed-out start fails startAll the same way", async () => {
    const { kernel } = testKernel({ startTimeoutMs: 40 });
    await kernel.register({ name: "hang", start: () => new Promise<void>(() => {}) });
    await kernel.register({ name: "after", dependencies: ["hang"] });
    await expect(kernel.startAll()).rejects.toMatchObject({
      code: "START_ALL_FAILED",
      failures: [{ service: "hang", error: expect.objectContaining({ code: "START_TIMEOUT" }) }],
      skipped: ["after"],
    });
    await kernel.close();
  });

  it("start(name) whose dependency fails rejects naming both", async () => {
    const { kernel } = testKernel();
    await kernel.register({ name: "db", start: () => Promise.reject(new Error("refused")) });
    await kernel.register({ name: "api", dependencies: ["db"] });
    const error = await kernel.start("api").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "START_FAILED", service: "api" });
    expect((error as Error).message).toContain('"api"');
    expect((error as Error).message).toContain('"db"');
    expect(kernel.status("api")).toBe("created");
    await kernel.close();
  });

  it("stopAll goes on past failing and hanging stops and names each at the end", async () => {
    const { kernel } = testKernel({ stopTimeoutMs: 40 });
    const rec = new Recorder();
    await kernel.register(rec.service("base"));
    await kernel.register(
      rec.service("bad", ["base"], {
        stop: () => {
          throw new Error("boom");
        },
      }),
    );
    await kernel.register(rec.service("hang", ["base"], { stop: () => new Promise<void>(() => {}) }));
    await kernel.register(rec.service("ok", ["base"]));
    await kernel.startAll();
    const error = await kernel.stopAll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LifecycleAggregateError);
    const agg = error as LifecycleAggregateError;
    expect(agg.code).toBe("STOP_ALL_FAILED");
    expect(agg.failures.map((f) => [f.service, (f.error as { code?: string }).code])).toEqual([
      ["hang", "STOP_TIMEOUT"],
      ["bad", "STOP_FAILED"],
    ]);
    expect(rec.of("stop")).toEqual(["ok", "hang", "bad", "base"]);
    expect(kernel.status("base")).toBe("stopped");
    expect(kernel.status("ok")).toBe("stopped");
    await kernel.close();
  });

  it("property: on random DAGs, starts respect every edge and stopAll is the exact reverse", async () => {
    const dag = fc.integer({ min: 1, max: 25 }).chain((n) =>
      fc.tuple(
        fc.array(fc.uniqueArray(fc.nat({ max: Math.max(0, n - 1) }), { maxLength: 3 }), {
          minLength: n,
          maxLength: n,
        }),
        fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(dag, async ([deps, order]) => {
        const { kernel } = testKernel();
        const rec = new Recorder();
        const edges = new Map<string, string[]>();
        for (const i of order) {
          const d = (deps[i] ?? []).filter((x) => x < i).map((x) => `s${x}`);
          edges.set(`s${i}`, d);
          await kernel.register(
            rec.service(`s${i}`, d, { start: () => (i % 3 === 0 ? Promise.resolve() : undefined) }),
          );
        }
        await kernel.startAll();
        const started = rec.of("start");
        expect(started).toHaveLength(order.length);
        const pos = new Map(started.map((n, i) => [n, i]));
        for (const [n, d] of edges) for (const x of d) expect(pos.get(x)).toBeLessThan(pos.get(n) as number);
        await kernel.stopAll();
        expect(rec.of("stop")).toEqual([...started].reverse());
        await kernel.close();
      }),
      { numRuns: 60 },
    );
  });
});

describe("the start plan", () => {
  it("is recomputed when the registry changes", async () => {
    const { kernel } = testKernel();
    const rec = new Recorder();
    await kernel.register(rec.service("a"));
    await kernel.startAll();
    await kernel.stopAll();
    await kernel.register(rec.service("b", ["zzz"]));
    await expect(kernel.startAll()).rejects.toMatchObject({ code: "MISSING_DEPENDENCY" });
    await kernel.unregister("b");
    await kernel.register(rec.service("b", ["a"]));
    await kernel.register(rec.service("c"));
    await kernel.startAll();
    expect(rec.of("start")).toEqual(["a", "a", "c", "b"]);
    await kernel.close({ stopAll: true });
  });

  it("does not change when the service's own dependencies array is mutated after registration", async () => {
    const { kernel } = testKernel();
    const deps = ["a"];
    await kernel.register({ name: "a" });
    await kernel.register({ name: "b", dependencies: deps });
    deps.push("nope");
    await kernel.startAll();
    expect(kernel.services()[1]?.dependencies).toEqual(["a"]);
    await kernel.close({ stopAll: true });
  });

  it("startAll waits for a service that is busy (being started on its own) instead of starting it twice", async () => {
    const { kernel } = testKernel();
    const gate = deferred();
    let starts = 0;
    await kernel.register({
      name: "slow",
      start: async () => {
        starts++;
        await gate.promise;
      },
    });
    await kernel.register({ name: "after", dependencies: ["slow"] });
    const single = kernel.start("slow");
    await new Promise((r) => setImmediate(r));
    const all = kernel.startAll();
    gate.resolve();
    await Promise.all([single, all]);
    expect(starts).toBe(1);
    expect(kernel.status("after")).toBe("running");
    await kernel.close({ stopAll: true });
  });

  it("mixes services that drain or save with plain ones in one stopAll, dependents first", async () => {
    const { kernel } = testKernel();
    const rec = new Recorder();
    await kernel.register(rec.service("db", [], { handle: () => ({ code: 0, message: "ok" }) }));
    await kernel.register(rec.service("api", ["db"]));
    await kernel.register(rec.service("web", ["api"], { handle: () => ({ code: 0, message: "ok" }) }));
    await kernel.startAll();
    await kernel.stopAll();
    expect(rec.of("stop")).toEqual(["web", "api", "db"]);
    await kernel.close();
  });
});

describe("stop(name) when a dependent fails to stop", () => {
  it("rejects naming the service, with the dependent's failure as the cause, and leaves the service running", async () => {
    const { kernel } = testKernel();
    await kernel.register({ name: "db" });
    await kernel.register({ name: "api", dependencies: ["db"], stop: () => Promise.reject(new Error("socket busy")) });
    await kernel.startAll();
    const error = await kernel.stop("db").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "STOP_FAILED", service: "db" });
    expect(((error as Error).cause as { service?: string }).service).toBe("api");
    expect((error as Error).message).toContain("socket busy");
    expect(kernel.status("api")).toBe("failed");
    expect(kernel.status("db")).toBe("running");
    // The dependent is no longer running: a second stop goes through.
    await kernel.stop("db");
    expect(kernel.status("db")).toBe("stopped");
    await kernel.close();
  });
});

describe("property: the kernel's own plan (records, not names)", () => {
  const graphArb = fc.integer({ min: 1, max: 20 }).chain((n) =>
    fc.record({
      deps: fc.array(fc.uniqueArray(fc.nat({ max: n - 1 }), { maxLength: 3 }), { minLength: n, maxLength: n }),
      order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
      cycle: fc.option(fc.uniqueArray(fc.nat({ max: n - 1 }), { minLength: 1, maxLength: 5 })),
    }),
  );

  it("reports every cycle with a path of real edges before starting anything, and never reports one in a DAG", async () => {
    await fc.assert(
      fc.asyncProperty(graphArb, async ({ deps, order, cycle }) => {
        const edges = new Map<string, string[]>();
        for (const i of order)
          edges.set(
            `s${i}`,
            (deps[i] ?? []).filter((d) => d < i).map((d) => `s${d}`),
          );
        if (cycle !== null) {
          cycle.forEach((node, k) => {
            const to = `s${cycle[(k + 1) % cycle.length] as number}`;
            const list = edges.get(`s${node}`) as string[];
            if (!list.includes(to)) list.push(to);
          });
        }
        const { kernel } = testKernel();
        const rec = new Recorder();
        for (const [name, d] of edges) await kernel.register(rec.service(name, d));
        const error = await kernel.startAll().catch((e: unknown) => e);
        if (cycle === null) {
          expect(error).toBeUndefined();
        } else {
          expect(error).toBeInstanceOf(DependencyCycleError);
          const path = (error as DependencyCycleError).cycle;
          expect(path[0]).toBe(path[path.length - 1]);
          for (let k = 0; k + 1 < path.length; k++) expect(edges.get(path[k] as string)).toContain(path[k + 1]);
          expect((error as Error).message).toContain(path.join(" -> "));
          expect(rec.calls).toEqual([]);
        }
        await kernel.close({ stopAll: true });
      }),
      { numRuns: 80 },
    );
  });
});
