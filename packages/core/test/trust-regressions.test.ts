// Regressions of issue 13 ("trust first"), each through the public API and
// named after the defect it pins: acknowledged state that was lost, calls that
// rejected or were never answered, a kernel that a caller's event could crash.
import type { LoadedState, SaveMeta } from "@mk/state";
import {
  compareVersions,
  InvalidEventError,
  KernelClosedError,
  MissingDependencyError,
  type Reply,
  type Service,
} from "@mk/core";
import { describe, expect, it } from "vitest";
import { deferred, TestStore, testKernel, type Deferred } from "./helpers.ts";

/** Polls `check` every 10 ms, at most `tries` times; true as soon as it holds. */
async function eventually(check: () => boolean, tries = 1000): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return check();
}

/**
 * A store that encodes the state when `save` is called (as FileStateStore
 * does) and commits it only once `gate` opens, so a test can change the
 * service's state while a save is in flight.
 */
class GatedStore extends TestStore {
  gate: Deferred | undefined;
  readonly saving: Deferred = deferred();

  override async save(name: string, state: unknown, meta?: SaveMeta): Promise<void> {
    const encoded = JSON.parse(JSON.stringify(state)) as unknown;
    const gate = this.gate;
    this.gate = undefined;
    this.saving.resolve();
    if (gate !== undefined) await gate.promise;
    return super.save(name, encoded, meta);
  }

  stored(name: string): unknown {
    const entry = this.data.get(name);
    return entry === undefined ? undefined : (JSON.parse(entry.json) as unknown);
  }

  override load(name: string): Promise<LoadedState | undefined> {
    return super.load(name);
  }
}

/** A bank whose live state object is what `exportState` returns; "credit" waits for `gate` when one is set. */
function bank(version = "1") {
  const state = { balance: 0 };
  const svc = {
    name: "bank",
    version,
    state,
    gate: undefined as Deferred | undefined,
    stops: 0,
    async handle(event: { type: string }): Promise<Reply> {
      if (event.type === "credit") {
        if (svc.gate !== undefined) await svc.gate.promise;
        state.balance += 100;
      }
      return { code: 0, message: "ok", data: state.balance };
    },
    exportState: () => state,
    importState(saved: unknown) {
      state.balance = (saved as { balance: number }).balance;
    },
    stop() {
      svc.stops += 1;
    },
  };
  return svc;
}

describe("issue 13 #1: checkpoint lost update", () => {
  it("a change made while a checkpoint is saving is saved by a later checkpoint", async () => {
    const store = new GatedStore();
    const { kernel } = testKernel({ store, checkpointIntervalMs: 5 });
    const service = bank();
    await kernel.register(service);
    await kernel.start("bank");
    const gate = deferred();
    store.gate = gate;
    // The first checkpoint exports { balance: 0 } and is held in the store...
    await store.saving.promise;
    // ...while a credit is acknowledged on the live state object.
    expect(await kernel.send({ to: "bank", from: "t", type: "credit" })).toMatchObject({ code: 0, data: 100 });
    gate.resolve();
    expect(await eventually(() => (store.stored("bank") as { balance?: number })?.balance === 100)).toBe(true);
    await kernel.close({ stopAll: true });
  });
});

describe("issue 13 #2: stopTimeoutMs 0 skipped the drain", () => {
  it("stop waits for the in-flight handler before saving (0 means no deadline)", async () => {
    const store = new TestStore();
    const { kernel } = testKernel({ store, stopTimeoutMs: 0 });
    const service = bank();
    await kernel.register(service);
    await kernel.start("bank");
    service.gate = deferred();
    const credit = kernel.send({ to: "bank", from: "t", type: "credit" });
    const stopping = kernel.stop("bank");
    // Long past a 0 ms timer: before the fix, the drain had given up and the save had run.
    await new Promise((resolve) => setTimeout(resolve, 50));
    service.gate.resolve();
    expect(await credit).toMatchObject({ code: 0, data: 100 });
    await stopping;
    expect(JSON.parse(store.data.get("bank")?.json ?? "null")).toEqual({ balance: 100 });
    await kernel.close();
  });

  it("a hot swap waits for the in-flight handler before exporting", async () => {
    const { kernel } = testKernel({ stopTimeoutMs: 0 });
    const v1 = bank("1");
    await kernel.register(v1);
    await kernel.start("bank");
    v1.gate = deferred();
    const credit = kernel.send({ to: "bank", from: "t", type: "credit" });
    const v2 = bank("2");
    const swapping = kernel.replace(v2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    v1.gate.resolve();
    expect(await credit).toMatchObject({ code: 0, data: 100 });
    await swapping;
    expect(v2.state.balance).toBe(100);
    await kernel.close({ stopAll: true });
  });
});

describe("issue 13 #3: close({ stopAll: true }) during a hot swap", () => {
  it("waits for the swap, then stops the new version and saves its state", async () => {
    const store = new TestStore();
    const { kernel, log } = testKernel({ store });
    const v1 = bank("1");
    await kernel.register(v1);
    await kernel.start("bank");
    await kernel.send({ to: "bank", from: "t", type: "credit" });
    const v2 = bank("2");
    const starting = deferred();
    const gate = deferred();
    const v2Service: Service = {
      ...v2,
      start: async () => {
        starting.resolve();
        await gate.promise;
      },
    };
    const swapping = kernel.replace(v2Service);
    await starting.promise;
    const closing = kernel.close({ stopAll: true });
    gate.resolve();
    await swapping;
    await closing;
    expect(kernel.status("bank")).toBe("stopped");
    expect(v2.stops).toBe(1);
    expect(store.saves.at(-1)).toEqual({ name: "bank", state: { balance: 100 }, version: "2" });
    // "kernel closed" is the last thing the kernel says.
    expect(log.lines().at(-1)).toBe("[kernel] kernel closed");
  });
});

describe("issue 13 #4: calls during a graceful shutdown rejected", () => {
  it("answers with replies until close has resolved: served while the target runs, 404 once it stops", async () => {
    const { kernel } = testKernel();
    const stopping = deferred();
    const gate = deferred();
    // "front" depends on "back": front stops first (and hangs), back still runs meanwhile.
    await kernel.register({ name: "back", handle: () => ({ code: 0, message: "back" }) });
    await kernel.register({
      name: "front",
      dependencies: ["back"],
      handle: () => ({ code: 0, message: "front" }),
      stop: async () => {
        stopping.resolve();
        await gate.promise;
      },
    });
    await kernel.startAll();
    const closing = kernel.close({ stopAll: true });
    await stopping.promise;
    await expect(kernel.send({ to: "back", from: "t", type: "x" })).resolves.toMatchObject({ code: 0 });
    await expect(kernel.push({ to: "back", from: "t", type: "x" })).resolves.toMatchObject({ code: 0 });
    await expect(kernel.send({ to: "front", from: "t", type: "x" })).resolves.toMatchObject({ code: 404 });
    await expect(kernel.push({ to: "front", from: "t", type: "x" })).resolves.toMatchObject({ code: 404 });
    gate.resolve();
    await closing;
    await expect(kernel.send({ to: "back", from: "t", type: "x" })).rejects.toBeInstanceOf(KernelClosedError);
  });
});

describe("issue 13 #8: event getters", () => {
  it("a throwing getter or Proxy trap gives a typed rejection, never a synchronous throw", async () => {
    const { kernel } = testKernel();
    await kernel.register({ name: "echo", handle: () => ({ code: 0, message: "ok" }) });
    await kernel.start("echo");
    const getter = {
      to: "echo",
      from: "t",
      get type(): string {
        throw new Error("getter");
      },
    };
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
      },
    );
    for (const event of [getter, proxy]) {
      for (const call of ["send", "push"] as const) {
        let promise: Promise<Reply> | undefined;
        expect(() => {
          promise = kernel[call](event as never);
        }).not.toThrow();
        await expect(promise).rejects.toBeInstanceOf(InvalidEventError);
      }
    }
    await kernel.close({ stopAll: true });
  });

  it("validates `from`", async () => {
    const { kernel } = testKernel();
    await kernel.register({ name: "echo", handle: () => ({ code: 0, message: "ok" }) });
    await kernel.start("echo");
    for (const from of [42, null, {}]) {
      await expect(kernel.send({ to: "echo", type: "x", from } as never)).rejects.toMatchObject({
        code: "INVALID_EVENT",
      });
      await expect(kernel.push({ to: "echo", type: "x", from } as never)).rejects.toMatchObject({
        code: "INVALID_EVENT",
      });
    }
    await kernel.close({ stopAll: true });
  });

  it("reads each field once: a getter that throws on its second read cannot break a deadline", async () => {
    const { kernel } = testKernel();
    await kernel.register({ name: "hang", handle: () => new Promise<Reply>(() => {}) });
    await kernel.start("hang");
    const innocent = kernel.send({ to: "hang", from: "t", type: "innocent", timeoutMs: 30 });
    let reads = 0;
    const hostile = {
      to: "hang",
      from: "t",
      timeoutMs: 30,
      get type(): string {
        reads += 1;
        if (reads > 1) throw new Error("second read");
        return "hostile";
      },
    };
    const answered = kernel.send(hostile);
    expect(await answered).toMatchObject({ code: 408 });
    expect((await answered).message).toContain('"hostile"');
    expect(await innocent).toMatchObject({ code: 408 });
    expect(reads).toBe(1);
    await kernel.close();
  });
});

describe("issue 13 #10: an unrelated missing dependency blocked everything", () => {
  it("start and replace of unrelated services work; only the dependent is held back; register warns", async () => {
    const { kernel, log } = testKernel();
    await kernel.register({ name: "a", dependencies: ["missing"] });
    expect(log.lines()).toContain('[kernel] service "a" depends on "missing", which is not registered (yet)');
    await kernel.register({ name: "b", version: "1" });
    await kernel.start("b");
    expect(kernel.status("b")).toBe("running");
    await kernel.replace({ name: "b", version: "2" });
    expect(kernel.services().find((s) => s.name === "b")?.version).toBe("2");
    await expect(kernel.start("a")).rejects.toBeInstanceOf(MissingDependencyError);
    await kernel.close({ stopAll: true });
  });
});

describe("issue 13, also: state saved by a newer version", () => {
  it("imports it with fromVersion and warns that an older version imports it", async () => {
    const store = new TestStore();
    await store.save("bank", { balance: 300 }, { version: "2.0.0" });
    const { kernel, log } = testKernel({ store });
    const seen: (string | undefined)[] = [];
    const v1 = bank("1.4.0");
    await kernel.register({
      ...v1,
      importState(state: unknown, info: { fromVersion?: string }) {
        seen.push(info.fromVersion);
        v1.importState(state);
      },
    });
    expect(seen).toEqual(["2.0.0"]);
    expect(v1.state.balance).toBe(300);
    expect(log.records.filter((r) => r.level === "warn").map((r) => r.message)).toContain(
      'service "bank" 1.4.0 imports state saved by a newer version, 2.0.0',
    );
    await kernel.close();
  });

  it("does not warn for the same or an older version, nor when a version does not parse", async () => {
    for (const [saved, running] of [
      ["1.0.0", "1.0.0"],
      ["1.0.0", "1.2.0"],
      ["2.0.0-rc.1", "2.0.0"],
      ["banana", "1.0.0"],
    ] as const) {
      const store = new TestStore();
      await store.save("bank", { balance: 1 }, { version: saved });
      const { kernel, log } = testKernel({ store });
      await kernel.register(bank(running));
      expect(log.records.filter((r) => r.level === "warn")).toEqual([]);
      await kernel.close();
    }
  });

  it("exports the ordering the warning uses (compareVersions), for other packages to agree with it", () => {
    expect(compareVersions("1.4.0", "2.0.0")).toBe(-1);
    expect(compareVersions("2.0.0", "2.0.0-rc.1")).toBe(1);
    expect(compareVersions("banana", "1.0.0")).toBeUndefined();
  });
});
