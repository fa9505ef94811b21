import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AesGcmCrypter } from "@mk/crypto";
import { FileStateStore } from "@mk/state";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  SwapFailedError,
  type Event,
  type Kernel,
  type Reply,
  type Service,
  type ServiceContext,
  type SwapEvent,
} from "@mk/core";
import { deferred, TestStore, testKernel } from "./helpers.ts";

/**
 * The demo's echo: counts messages; version 1 adds 1 per message, version 2
 * adds 8. `hooks` inject failures and waits at each step of a swap.
 */
interface Echo extends Service {
  count: number;
  stops: number;
  starts: number;
  handled: number[];
}
interface Hooks {
  step?: number;
  export?: () => unknown;
  import?: () => void | Promise<void>;
  stop?: () => void | Promise<void>;
  start?: () => void | Promise<void>;
  handle?: () => Promise<void> | undefined;
  dependencies?: string[];
}
function echo(version: string, hooks: Hooks = {}): Echo {
  const step = hooks.step ?? 1;
  const svc: Echo = {
    name: "echo",
    version,
    count: 0,
    stops: 0,
    starts: 0,
    handled: [],
    ...(hooks.dependencies === undefined ? {} : { dependencies: hooks.dependencies }),
    start() {
      svc.starts++;
      return hooks.start?.();
    },
    stop() {
      svc.stops++;
      return hooks.stop?.();
    },
    handle(event: Event): Reply | Promise<Reply> {
      const wait = hooks.handle?.();
      const apply = (): Reply => {
        svc.count += step;
        svc.handled.push(event.content as number);
        return { code: 0, message: `v${version}`, data: svc.count };
      };
      return wait === undefined ? apply() : wait.then(apply);
    },
    exportState() {
      return hooks.export === undefined ? { count: svc.count } : hooks.export();
    },
    async importState(state: unknown) {
      await hooks.import?.();
      svc.count = (state as { count: number }).count;
    },
  };
  return svc;
}

const say = (content: number, extra: Partial<Event> = {}): Event => ({
  to: "echo",
  from: "test",
  type: "say",
  content,
  ...extra,
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function running(service: Service, options: Parameters<typeof testKernel>[0] = {}) {
  const t = testKernel(options);
  await t.kernel.register(service);
  await t.kernel.startAll();
  const swaps: SwapEvent[] = [];
  t.kernel.on("swap", (e) => swaps.push(e));
  return { ...t, swaps };
}

async function swapError(kernel: Kernel, next: unknown): Promise<SwapFailedError> {
  const error = await kernel.replace(next as Service).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SwapFailedError);
  return error as SwapFailedError;
}

describe("Kernel.replace (hot swap)", () => {
  it("the demo: v1 counts, v2 continues from v1's count adding 8 per message", async () => {
    const v1 = echo("1");
    const { kernel, swaps, log } = await running(v1);
    for (let i = 0; i < 3; i++) await kernel.send(say(i));
    expect(v1.count).toBe(3);
    const v2 = echo("2", { step: 8 });
    await kernel.replace(v2);
    expect(await kernel.send(say(3))).toEqual({ code: 0, message: "v2", data: 11 });
    expect(kernel.status("echo")).toBe("running");
    expect(kernel.services()[0]).toMatchObject({ name: "echo", version: "2", status: "running" });
    expect(v1.stops).toBe(1);
    expect(v2.starts).toBe(1);
    expect(swaps.map((s) => s.step)).toEqual(["begin", "held", "drained", "migrated", "stopped", "started", "done"]);
    expect(swaps[0]).toMatchObject({ name: "echo", fromVersion: "1", toVersion: "2" });
    expect(log.lines().some((l) => l.includes("hot swap of echo v1 -> v2 done"))).toBe(true);
    await kernel.close({ stopAll: true });
  });

  it("persists the state through an encrypting FileStateStore, so a crash right after the swap keeps it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mk-swap-"));
    try {
      const store = new FileStateStore(dir, new AesGcmCrypter("1234567890123456"));
      const { kernel } = await running(echo("1"), { store });
      for (let i = 0; i < 5; i++) await kernel.push(say(i));
      await kernel.replace(echo("2", { step: 8 }));
      // A second process reading the store right now (as after a crash) finds v1's final state, tagged with its version.
      expect(await new FileStateStore(dir, new AesGcmCrypter("1234567890123456")).load("echo")).toMatchObject({
        state: { count: 5 },
        version: "1",
      });
      expect((await kernel.send(say(5))).data).toBe(13);
      await kernel.close({ stopAll: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("holds messages that arrive during the swap and delivers them to the new version in arrival order", async () => {
    const importing = deferred();
    const v1 = echo("1");
    const { kernel } = await running(v1);
    const v2 = echo("2", { import: () => importing.promise });
    const swap = kernel.replace(v2);
    await sleep(1);
    const calls = [kernel.send(say(1)), kernel.push(say(2)), kernel.send(say(3)), kernel.push(say(4))];
    await sleep(10);
    expect(v1.handled).toEqual([]);
    importing.resolve();
    await swap;
    const replies = await Promise.all(calls);
    expect(replies.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(replies.map((r) => r.message)).toEqual(["v2", "v2", "v2", "v2"]);
    expect(v2.handled).toEqual([1, 2, 3, 4]);
    await kernel.close({ stopAll: true });
  });

  it("waits for in-flight handler calls of the old version before exporting", async () => {
    const gate = deferred();
    let block = true;
    const v1 = echo("1", { handle: () => (block ? gate.promise : undefined) });
    const { kernel } = await running(v1);
    const inFlight = kernel.send(say(1));
    await sleep(1);
    block = false;
    const swap = kernel.replace(echo("2"));
    await sleep(10);
    expect(kernel.services()[0]?.version).toBe("1");
    gate.resolve();
    expect(await inFlight).toMatchObject({ code: 0, message: "v1", data: 1 });
    await swap;
    expect((await kernel.send(say(2))).data).toBe(2);
    await kernel.close({ stopAll: true });
  });

  it("swaps a service that is not running without starting it, migrating its state", async () => {
    const { kernel } = testKernel();
    const v1 = echo("1");
    await kernel.register(v1);
    await kernel.startAll();
    await kernel.send(say(1));
    await kernel.stop("echo");
    const v2 = echo("2");
    await kernel.replace(v2);
    expect(kernel.status("echo")).toBe("stopped");
    expect(v2.starts).toBe(0);
    expect(v2.count).toBe(1);
    expect((await kernel.send(say(2))).code).toBe(404);
    await kernel.start("echo");
    expect((await kernel.send(say(3))).data).toBe(2);
    await kernel.close({ stopAll: true });
  });

  it("keeps dependents running throughout", async () => {
    const { kernel, statuses } = testKernel();
    await kernel.register(echo("1"));
    await kernel.register({ name: "logger", dependencies: ["echo"] });
    await kernel.startAll();
    statuses.length = 0;
    await kernel.replace(echo("2"));
    expect(statuses.filter((s) => s.name === "logger")).toEqual([]);
    expect(statuses.map((s) => `${s.name}:${s.to}`)).toEqual([
      "echo:stopping",
      "echo:stopped",
      "echo:starting",
      "echo:running",
    ]);
    expect(kernel.status("logger")).toBe("running");
    await kernel.close({ stopAll: true });
  });

  it("serializes swaps of one service, each carrying the state on", async () => {
    const { kernel } = await running(echo("1"));
    await kernel.send(say(1));
    const v2 = echo("2", { import: () => sleep(5) });
    const v3 = echo("3", { step: 10 });
    await Promise.all([kernel.replace(v2), kernel.replace(v3)]);
    expect(kernel.services()[0]?.version).toBe("3");
    expect((await kernel.send(say(2))).data).toBe(11);
    await kernel.close({ stopAll: true });
  });

  it("swaps different services concurrently", async () => {
    const { kernel } = testKernel();
    const a1 = { ...echo("1"), name: "a" };
    const b1 = { ...echo("1"), name: "b" };
    await kernel.register(a1);
    await kernel.register(b1);
    await kernel.startAll();
    const slow = deferred();
    const swapA = kernel.replace({ ...echo("2", { import: () => slow.promise }), name: "a" });
    await kernel.replace({ ...echo("2"), name: "b" });
    expect(kernel.services().map((s) => s.version)).toEqual(["1", "2"]);
    slow.resolve();
    await swapA;
    expect(kernel.services().map((s) => s.version)).toEqual(["2", "2"]);
    await kernel.close({ stopAll: true });
  });
});

describe("Kernel.replace rollback", () => {
  const failures: [string, Hooks | ((store: TestStore) => void), string][] = [
    ["export", {}, "export"],
    ["import", { import: () => Promise.reject(new Error("import boom")) }, "import"],
    ["stop", {}, "stop"],
    ["start", { start: () => Promise.reject(new Error("start boom")) }, "start"],
    ["start timeout", { start: () => new Promise<void>(() => undefined) }, "start"],
    ["store save", (store: TestStore) => void (store.failSave = new Error("disk full")), "transfer"],
    ["store load", (store: TestStore) => void (store.failLoad = new Error("bad tag")), "transfer"],
  ];

  it.each(failures)(
    "after a failure at %s, v1 serves again with its exact state and gets the held messages",
    async (_, setup, phase) => {
      const store = new TestStore();
      let failExport = false;
      let failStop = false;
      const v1 = echo("1", {
        export: () => {
          if (failExport) throw new Error("export boom");
          return { count: v1.count };
        },
        stop: () => (failStop ? Promise.reject(new Error("stop boom")) : undefined),
      });
      const { kernel, swaps } = await running(v1, { store, startTimeoutMs: 50 });
      for (let i = 0; i < 4; i++) await kernel.send(say(i));
      if (typeof setup === "function") setup(store);
      failExport = phase === "export";
      failStop = phase === "stop";
      const v2 = echo("2", { step: 8, ...(typeof setup === "function" ? {} : setup) });
      const swap = swapError(kernel, v2);
      const during = [kernel.send(say(100)), kernel.push(say(101))];
      const error = await swap;
      expect(error.phase).toBe(phase);
      expect(error.code).toBe("SWAP_FAILED");
      expect(error.message).toContain('"echo"');
      expect(error.cause).toBeInstanceOf(Error);
      expect((await Promise.all(during)).map((r) => [r.code, r.message])).toEqual([
        [0, "v1"],
        [0, "v1"],
      ]);
      expect(kernel.status("echo")).toBe("running");
      expect(kernel.services()[0]?.version).toBe("1");
      expect((await kernel.send(say(5))).data).toBe(7);
      expect(v1.handled).toEqual([0, 1, 2, 3, 100, 101, 5]);
      expect(v2.handled).toEqual([]);
      expect(swaps.at(-1)).toMatchObject({ step: "rolled-back", error });
      failExport = false;
      failStop = false;
      store.failSave = undefined;
      store.failLoad = undefined;
      await kernel.close({ stopAll: true });
    },
  );

  it("refuses invalid swaps before touching anything (phase validate)", async () => {
    const v1 = echo("1");
    const { kernel, swaps } = await running(v1);
    await kernel.register({ name: "idle" });
    await kernel.register({ name: "other", dependencies: ["echo"] });
    const cases: [unknown, string][] = [
      [null, "expected a service object"],
      [{ name: "../x" }, "invalid service name"],
      [{ name: "ghost" }, "not registered"],
      [v1, "already registered"],
      [{ name: "echo", dependencies: ["nope"] }, "nope"],
      [{ name: "echo", dependencies: ["idle"] }, '"idle", which is created'],
      [{ name: "echo", dependencies: ["other"] }, "echo -> other -> echo"],
    ];
    for (const [next, text] of cases) {
      const error = await swapError(kernel, next);
      expect(error.phase).toBe("validate");
      expect(String((error.cause as Error).message)).toContain(text);
    }
    expect(v1.stops).toBe(0);
    expect(swaps.filter((s) => s.step !== "rolled-back")).toEqual([]);
    expect((await kernel.send(say(1))).message).toBe("v1");
    await kernel.close({ stopAll: true });
  });

  it("when the old version cannot restart either, says so (both causes) and leaves the service failed", async () => {
    let restarts = 0;
    const v1 = echo("1", {
      stop: () => Promise.reject(new Error("stop boom")),
      start: () => (restarts++ > 0 ? Promise.reject(new Error("restart boom")) : undefined),
    });
    const { kernel } = await running(v1);
    const error = await swapError(kernel, echo("2"));
    expect(error.phase).toBe("stop");
    expect(error.cause).toBeInstanceOf(AggregateError);
    expect((error.cause as AggregateError).errors.map((e: Error) => e.message)).toEqual([
      'service "echo" failed to stop: stop boom',
      'service "echo" failed to start: restart boom',
    ]);
    expect(kernel.status("echo")).toBe("failed");
    expect(kernel.services()[0]?.version).toBe("1");
    expect((await kernel.send(say(1))).code).toBe(404);
    await kernel.close();
  });

  it("rolls back when the state cannot be cloned (no store)", async () => {
    const v1 = echo("1", { export: () => ({ count: 1, fn: () => undefined }) });
    const { kernel } = await running(v1);
    const error = await swapError(kernel, echo("2"));
    expect(error.phase).toBe("transfer");
    expect((await kernel.send(say(1))).message).toBe("v1");
    await kernel.close({ stopAll: true });
  });

  it("a failed swap of a service that is not running leaves the old version registered", async () => {
    const { kernel } = testKernel();
    const v1 = echo("1");
    await kernel.register(v1);
    const error = await swapError(kernel, echo("2", { import: () => Promise.reject(new Error("nope")) }));
    expect(error.phase).toBe("import");
    expect(kernel.services()[0]?.version).toBe("1");
    await kernel.startAll();
    expect((await kernel.send(say(1))).message).toBe("v1");
    await kernel.close({ stopAll: true });
  });
});

describe("hot swap under load", () => {
  it("22 consecutive swaps with thousands of sends and pushes in flight: every call answered 0, none lost, none twice", async () => {
    let current = echo("0", { handle: () => (Math.random() < 0.3 ? sleep(0) : undefined) });
    const { kernel } = await running(current, { queueCapacity: 100_000 });
    let calls = 0;
    let stop = false;
    const replies: Promise<Reply>[] = [];
    const load = (async () => {
      while (!stop) {
        for (let i = 0; i < 100; i++) {
          const n = calls++;
          replies.push(n % 2 === 0 ? kernel.send(say(n)) : kernel.push(say(n)));
        }
        await sleep(0);
      }
    })();
    for (let v = 1; v <= 22; v++) {
      current = echo(String(v), { handle: () => (Math.random() < 0.3 ? sleep(0) : undefined) });
      await kernel.replace(current);
      await sleep(1);
    }
    stop = true;
    await load;
    const answered = await Promise.all(replies);
    expect(answered.filter((r) => r.code !== 0)).toEqual([]);
    expect(calls).toBeGreaterThan(2000);
    expect(current.count).toBe(calls);
    expect(kernel.services()[0]?.stats).toMatchObject({ handled: calls, failed: 0, timedOut: 0, refused: 0 });
    await kernel.close({ stopAll: true });
  });

  it("property: random interleavings of calls and swaps (some failing) never lose or duplicate a call", async () => {
    type Op =
      | { kind: "send" | "push" }
      | { kind: "swap"; fail: "none" | "import" | "stop" | "start" | "export" }
      | { kind: "pause" };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.constantFrom<Op>({ kind: "send" }, { kind: "push" }, { kind: "pause" }),
      fc
        .constantFrom("none", "none", "import", "stop", "start", "export")
        .map((fail) => ({ kind: "swap", fail }) as Op),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const seen = new Map<number, number>();
        let failNextExport = false;
        const make = (version: number, fail: string): Service => {
          const svc = echo(String(version), {
            handle: () => (version % 2 === 0 ? sleep(0) : undefined),
            ...(fail === "import" ? { import: () => Promise.reject(new Error("import")) } : {}),
            ...(fail === "start" ? { start: () => Promise.reject(new Error("start")) } : {}),
            ...(fail === "stop" ? { stop: () => Promise.reject(new Error("stop")) } : {}),
          });
          const handle = svc.handle?.bind(svc) as (e: Event, c: ServiceContext) => Reply | Promise<Reply>;
          return {
            ...svc,
            handle: (e: Event, c: ServiceContext) => {
              seen.set(e.content as number, (seen.get(e.content as number) ?? 0) + 1);
              return handle(e, c);
            },
            exportState: () => {
              if (failNextExport) {
                failNextExport = false;
                throw new Error("export");
              }
              return svc.exportState?.();
            },
            importState: (s: unknown, i: { fromVersion?: string }) => svc.importState?.(s, i),
            // The live counter lives in `svc`; expose it through a getter on the wrapper.
            get count() {
              return svc.count;
            },
          } as Service;
        };
        const { kernel } = await running(make(0, "none"), { stopTimeoutMs: 1000, startTimeoutMs: 1000 });
        // A version with a failing stop, once in place, makes every later swap roll back to it: still nothing may be lost.
        let version = 0;
        let calls = 0;
        const pending: Promise<unknown>[] = [];
        for (const o of ops) {
          if (o.kind === "pause") await sleep(0);
          else if (o.kind === "swap") {
            version++;
            if (o.fail === "export") failNextExport = true;
            pending.push(
              kernel.replace(make(version, o.fail)).catch((e: unknown) => expect(e).toBeInstanceOf(SwapFailedError)),
            );
          } else {
            const n = calls++;
            pending.push(
              (o.kind === "send" ? kernel.send(say(n)) : kernel.push(say(n))).then((r) =>
                expect(r.code, r.message).toBe(0),
              ),
            );
          }
        }
        await Promise.all(pending);
        expect(kernel.status("echo")).toBe("running");
        for (let n = 0; n < calls; n++) expect(seen.get(n), `call ${n}`).toBe(1);
        const info = kernel.services()[0];
        expect(info?.stats.handled).toBe(calls);
        // The count travels with every successful swap and survives every rollback: it equals the calls made.
        const last = await kernel.send({ to: "echo", from: "test", type: "say", content: -1 });
        expect(last.code).toBe(0);
        expect(last.data).toBe(calls + 1);
        await kernel.close();
        return true;
      }),
      { numRuns: 40 },
    );
  });
});

describe("hot swap with deadlines and aborts", () => {
  it("property: a call answered 0 was handled exactly once; a 408 or aborted call at most once; none twice", async () => {
    type Op =
      | { kind: "call"; via: "send" | "push"; timeoutMs: number | undefined; abortAfterMs: number | undefined }
      | { kind: "swap"; importMs: number; fail: boolean }
      | { kind: "pause"; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant("call" as const),
        via: fc.constantFrom("send" as const, "push" as const),
        timeoutMs: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
        abortAfterMs: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
      }),
      fc.record({ kind: fc.constant("swap" as const), importMs: fc.integer({ min: 0, max: 20 }), fail: fc.boolean() }),
      fc.record({ kind: fc.constant("pause" as const), ms: fc.integer({ min: 0, max: 5 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const handled = new Map<number, number>();
        const make = (version: number, importMs: number, fail: boolean): Service => {
          const svc = echo(String(version), {
            handle: () => (version % 2 === 0 ? sleep(1) : undefined),
            import: async () => {
              await sleep(importMs);
              if (fail) throw new Error("import");
            },
          });
          const handle = svc.handle?.bind(svc) as (e: Event, c: ServiceContext) => Reply | Promise<Reply>;
          return {
            ...svc,
            handle: (e: Event, c: ServiceContext) => {
              handled.set(e.content as number, (handled.get(e.content as number) ?? 0) + 1);
              return handle(e, c);
            },
            exportState: () => svc.exportState?.(),
            importState: (s: unknown, i: { fromVersion?: string }) => svc.importState?.(s, i),
          } as Service;
        };
        const { kernel } = await running(make(0, 0, false), { queueCapacity: 10_000 });
        const outcomes: Promise<[number, string]>[] = [];
        let calls = 0;
        let version = 0;
        const swaps: Promise<unknown>[] = [];
        for (const o of ops) {
          if (o.kind === "pause") await sleep(o.ms);
          else if (o.kind === "swap") {
            swaps.push(kernel.replace(make(++version, o.importMs, o.fail)).catch((e: unknown) => e));
          } else {
            const n = calls++;
            const controller = new AbortController();
            if (o.abortAfterMs !== undefined) setTimeout(() => controller.abort(new Error("gave up")), o.abortAfterMs);
            const event = say(n, o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs });
            const options = o.abortAfterMs === undefined ? undefined : { signal: controller.signal };
            outcomes.push(
              kernel[o.via](event, options).then(
                (r): [number, string] => [n, String(r.code)],
                (): [number, string] => [n, "aborted"],
              ),
            );
          }
        }
        const results = await Promise.all(outcomes);
        for (const error of await Promise.all(swaps))
          if (error !== undefined) expect(error).toBeInstanceOf(SwapFailedError);
        await sleep(5); // let handlers whose callers gave up finish
        for (const [n, outcome] of results) {
          const times = handled.get(n) ?? 0;
          if (outcome === "0") expect(times, `call ${n} answered 0`).toBe(1);
          else {
            expect(["408", "aborted"], `call ${n}`).toContain(outcome);
            expect(times, `call ${n} (${outcome})`).toBeLessThanOrEqual(1);
          }
        }
        expect(kernel.status("echo")).toBe("running");
        await kernel.close({ stopAll: true });
      }),
      { numRuns: 30 },
    );
  });
});
