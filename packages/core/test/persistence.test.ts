import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AesGcmCrypter } from "@mk/crypto";
import { FileStateStore, MemoryStateStore, type StateStore } from "@mk/state";
import { afterEach, describe, expect, it } from "vitest";
import { StateLoadFailedError, StateSaveFailedError } from "@mk/core";
import { counter, deferred, TestStore, testKernel } from "./helpers.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe("a store written to the five-method contract of API.md", () => {
  // Regression: StateStore.close() was required, so a user's store with exactly the
  // documented methods (save, load, exists, delete, list) no longer type-checked.
  it("type-checks as a StateStore without close(), and the kernel saves to it and imports from it", async () => {
    const saved = new Map<string, { state: unknown; version?: string }>();
    const store: StateStore = {
      save: async (name, state, meta) => {
        saved.set(name, meta?.version === undefined ? { state } : { state, version: meta.version });
      },
      load: async (name) => saved.get(name),
      exists: async (name) => saved.has(name),
      delete: async (name) => void saved.delete(name),
      list: async () => [...saved.keys()].sort(),
    };
    const first = testKernel({ store }).kernel;
    const echo = counter("echo", "1");
    await first.register(echo);
    await first.start("echo");
    echo.count = 7;
    await first.close({ stopAll: true });
    expect(saved.get("echo")).toEqual({ state: { count: 7 }, version: "1" });

    const second = testKernel({ store }).kernel;
    const again = counter("echo", "1");
    await second.register(again);
    expect(again.count).toBe(7);
    await second.close();
  });
});

describe("state on register", () => {
  it("imports the stored state with the version that saved it", async () => {
    const store = new TestStore();
    await store.save("echo", { count: 41 }, { version: "1" });
    const { kernel } = testKernel({ store });
    let info: unknown;
    const echo = counter("echo", "2");
    const importState = echo.importState.bind(echo);
    echo.importState = (state: unknown, i: { fromVersion?: string }) => {
      info = i;
      importState(state);
    };
    await kernel.register(echo);
    expect(echo.count).toBe(41);
    expect(info).toEqual({ fromVersion: "1" });
    await kernel.close();
  });

  it("a failed load or import rejects with STATE_LOAD_FAILED and registers nothing", async () => {
    const store = new TestStore();
    await store.save("echo", { count: 1 });
    const { kernel } = testKernel({ store });
    const bad = {
      name: "echo",
      importState: () => {
        throw new Error("schema mismatch");
      },
    };
    const error = await kernel.register(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateLoadFailedError);
    expect(error).toMatchObject({ code: "STATE_LOAD_FAILED", service: "echo" });
    expect((error as Error).message).toContain("schema mismatch");
    expect(kernel.services()).toEqual([]);
    store.failLoad = new Error("EIO");
    await expect(kernel.register(counter("echo"))).rejects.toMatchObject({ code: "STATE_LOAD_FAILED" });
    expect(kernel.services()).toEqual([]);
    // Nothing was reserved by the failures: a good registration works.
    store.failLoad = undefined;
    await kernel.register(counter("echo"));
    expect(store.data.has("echo")).toBe(true);
    await kernel.close();
  });

  it("checks the name and duplicates before touching the store", async () => {
    const store = new TestStore();
    const { kernel } = testKernel({ store });
    await kernel.register(counter("echo"));
    const loads = store.loads;
    await expect(kernel.register(counter("echo"))).rejects.toMatchObject({ code: "ALREADY_REGISTERED" });
    await expect(kernel.register(counter("../echo"))).rejects.toMatchObject({ code: "INVALID_NAME" });
    expect(store.loads).toBe(loads);
    await kernel.close();
  });

  it("skips the load for a service that cannot import", async () => {
    const store = new TestStore();
    const { kernel } = testKernel({ store });
    await kernel.register({ name: "plain" });
    expect(store.loads).toBe(0);
    await kernel.close();
  });
});

describe("state on stop", () => {
  it("exports and saves after the last handled message and before service.stop()", async () => {
    const store = new TestStore();
    const { kernel } = testKernel({ store });
    const calls: string[] = [];
    const echo = counter("echo", "3");
    const svc = {
      ...echo,
      exportState: () => (calls.push("export"), echo.exportState()),
      handle: () => echo.handle(),
      stop: () => void calls.push("stop"),
    };
    await kernel.register(svc);
    await kernel.start("echo");
    await kernel.send({ to: "echo", from: "t", type: "inc" });
    await kernel.send({ to: "echo", from: "t", type: "inc" });
    await kernel.stop("echo");
    expect(calls).toEqual(["export", "stop"]);
    expect(store.saves).toEqual([{ name: "echo", state: { count: 2 }, version: "3" }]);
    await kernel.close();
  });

  it("a failed save rejects stop with the cause; the service keeps running and the last good copy stays", async () => {
    const store = new TestStore();
    await store.save("echo", { count: 7 });
    const { kernel } = testKernel({ store });
    const echo = counter("echo");
    await kernel.register(echo);
    await kernel.start("echo");
    await kernel.send({ to: "echo", from: "t", type: "inc" });
    store.failSave = new Error("ENOSPC");
    const error = await kernel.stop("echo").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateSaveFailedError);
    expect(error).toMatchObject({ code: "STATE_SAVE_FAILED", service: "echo" });
    expect(((error as Error).cause as Error).message).toBe("ENOSPC");
    expect(kernel.status("echo")).toBe("running");
    expect(JSON.parse(store.data.get("echo")?.json ?? "null")).toEqual({ count: 7 });
    expect((await kernel.send({ to: "echo", from: "t", type: "inc" })).data).toBe(9);
    // force: stops anyway, logs the failure.
    await kernel.stop("echo", { force: true });
    expect(kernel.status("echo")).toBe("stopped");
    await kernel.close();
  });

  it("an export that throws is a failed save too", async () => {
    const store = new TestStore();
    const { kernel } = testKernel({ store });
    await kernel.register({
      name: "x",
      exportState: () => {
        throw new Error("cyclic");
      },
    });
    await kernel.start("x");
    await expect(kernel.stop("x")).rejects.toMatchObject({
      code: "STATE_SAVE_FAILED",
      message: expect.stringContaining("cyclic"),
    });
    expect(kernel.status("x")).toBe("running");
    await kernel.stop("x", { force: true });
    await kernel.close();
  });

  it("stopAll with a failed save keeps that service and its dependencies running and names them", async () => {
    const store = new TestStore();
    const { kernel } = testKernel({ store });
    await kernel.register(counter("db"));
    await kernel.register({
      ...counter("api"),
      dependencies: ["db"],
      exportState: () => Promise.reject(new Error("busy")),
    });
    await kernel.register(counter("other"));
    await kernel.startAll();
    const error = await kernel.stopAll().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "STOP_ALL_FAILED" });
    const failures = (error as { failures: { service: string; error: { code: string } }[] }).failures;
    expect(failures.map((f) => [f.service, f.error.code])).toEqual([
      ["api", "STATE_SAVE_FAILED"],
      ["db", "INVALID_STATE"],
    ]);
    expect(kernel.services().map((s) => [s.name, s.status])).toEqual([
      ["db", "running"],
      ["api", "running"],
      ["other", "stopped"],
    ]);
    await kernel.stopAll({ force: true });
    await kernel.close();
  });
});

describe("checkpoints", () => {
  it("saves running exportable services periodically, skipping unchanged state, and emits events", async () => {
    const store = new TestStore();
    const { kernel } = testKernel({ store, checkpointIntervalMs: 20 });
    const saved: string[] = [];
    kernel.on("checkpoint", (e) => saved.push(`${e.name}@${e.version ?? "-"}`));
    await kernel.register(counter("echo", "5"));
    await kernel.register({ name: "plain" });
    await kernel.register(counter("idle"));
    await kernel.startAll();
    await kernel.send({ to: "echo", from: "t", type: "inc" });
    // The first tick saves echo and idle (never saved before); wait for both.
    await waitFor(() => saved.includes("echo@5") && saved.includes("idle@1"));
    const first = store.saves.length;
    // Nothing changed: further ticks save nothing.
    await sleep(80);
    expect(store.saves.length).toBe(first);
    await kernel.send({ to: "echo", from: "t", type: "inc" });
    await waitFor(() => store.saves.some((s) => s.name === "echo" && (s.state as { count: number }).count === 2));
    expect(store.saves.filter((s) => s.name === "plain")).toEqual([]);
    await kernel.close({ stopAll: true });
  });

  it("a failed checkpoint is logged, emitted, and retried at the next tick", async () => {
    const store = new TestStore();
    const { kernel, log } = testKernel({ store, checkpointIntervalMs: 15 });
    const failed: string[] = [];
    kernel.on("checkpoint-failed", (e) => failed.push(`${e.name}:${e.error.message}`));
    await kernel.register(counter("echo"));
    await kernel.start("echo");
    await kernel.send({ to: "echo", from: "t", type: "inc" });
    store.failSave = new Error("EIO");
    await waitFor(() => failed.length >= 2);
    expect(failed[0]).toContain('could not save the state of service "echo": EIO');
    expect(log.lines().some((l) => l.includes("checkpoint of echo failed"))).toBe(true);
    store.failSave = undefined;
    await waitFor(() => store.saves.some((s) => s.name === "echo"));
    await kernel.close({ stopAll: true });
  });

  it("never overlaps a stop of the same service", async () => {
    const store = new TestStore();
    const { kernel } = testKernel({ store, checkpointIntervalMs: 5 });
    let exporting = 0;
    let overlap = false;
    const stopGate = deferred();
    const echo = counter("echo");
    await kernel.register({
      ...echo,
      handle: () => echo.handle(),
      async exportState() {
        exporting += 1;
        await sleep(2);
        exporting -= 1;
        return { count: echo.count, at: Math.random() };
      },
      async stop() {
        if (exporting > 0) overlap = true;
        await stopGate.promise;
        if (exporting > 0) overlap = true;
      },
    });
    await kernel.start("echo");
    await sleep(30);
    const stopping = kernel.stop("echo");
    await sleep(30);
    stopGate.resolve();
    await stopping;
    expect(overlap).toBe(false);
    await kernel.close();
  });

  it("checkpoint() saves every running exportable service now and names failures", async () => {
    const store = new TestStore();
    const { kernel } = testKernel({ store });
    await kernel.register(counter("a"));
    await kernel.register(counter("b"));
    await kernel.register(counter("stopped"));
    await kernel.register({
      name: "broken",
      exportState: () => {
        throw new Error("nope");
      },
    });
    await kernel.start("a");
    await kernel.start("b");
    await kernel.start("broken");
    const error = await kernel.checkpoint().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CHECKPOINT_FAILED", failures: [{ service: "broken" }] });
    expect((error as Error).message).toContain("broken");
    expect(store.saves.map((s) => s.name).sort()).toEqual(["a", "b"]);
    await kernel.stop("broken", { force: true });
    await kernel.checkpoint();
    expect(store.saves.map((s) => s.name).sort()).toEqual(["a", "a", "b", "b"]);
    await kernel.close({ stopAll: true });
  });

  it("checkpointIntervalMs 0 turns the timer off", async () => {
    const store = new TestStore();
    const { kernel } = testKernel({ store, checkpointIntervalMs: 0 });
    await kernel.register(counter("echo"));
    await kernel.start("echo");
    await kernel.send({ to: "echo", from: "t", type: "inc" });
    await sleep(60);
    expect(store.saves).toEqual([]);
    await kernel.close();
  });
});

describe("with the real stores", () => {
  it("MemoryStateStore: state survives a kernel restart", async () => {
    const store = new MemoryStateStore();
    await roundTrip(() => store);
  });

  it("FileStateStore + AesGcmCrypter: state survives a kernel restart, in an encrypted file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mk-core-"));
    dirs.push(dir);
    const key = "0123456789abcdef0123456789abcdef";
    await roundTrip(() => new FileStateStore(dir, new AesGcmCrypter(key)));
    expect(await readdir(dir)).toContain("echo.state");
    // A kernel with the wrong key refuses the registration instead of starting from scratch.
    const { kernel } = testKernel({
      store: new FileStateStore(dir, new AesGcmCrypter("fedcba9876543210fedcba9876543210")),
    });
    await expect(kernel.register(counter("echo"))).rejects.toMatchObject({
      code: "STATE_LOAD_FAILED",
      service: "echo",
    });
    expect(kernel.services()).toEqual([]);
    await kernel.close();
  });
});

async function roundTrip(makeStore: () => import("@mk/state").StateStore): Promise<void> {
  const first = testKernel({ store: makeStore() });
  await first.kernel.register(counter("echo", "1"));
  await first.kernel.startAll();
  for (let i = 0; i < 3; i++) await first.kernel.send({ to: "echo", from: "t", type: "inc" });
  await first.kernel.close({ stopAll: true });

  const second = testKernel({ store: makeStore() });
  const echo = counter("echo", "2");
  await second.kernel.register(echo);
  expect(echo.count).toBe(3);
  await second.kernel.startAll();
  expect((await second.kernel.send({ to: "echo", from: "t", type: "inc" })).data).toBe(4);
  await second.kernel.close({ stopAll: true });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await sleep(5);
  }
}

describe("reloadState (the cluster's takeover hook)", () => {
  it("imports the state saved since register, only while the service is not running", async () => {
    const store = new TestStore();
    await store.save("echo", { count: 1 }, { version: "1" });
    const { kernel } = testKernel({ store });
    const echo = counter("echo", "1");
    await kernel.register(echo);
    expect(echo.count).toBe(1);
    // Another node owned it meanwhile and saved a newer state.
    await store.save("echo", { count: 7 }, { version: "1" });
    await expect(kernel.reloadState("echo")).resolves.toBe(true);
    expect(echo.count).toBe(7);
    await kernel.start("echo");
    await expect(kernel.reloadState("echo")).rejects.toMatchObject({ code: "INVALID_STATE" });
    expect(echo.count).toBe(7);
    await kernel.stop("echo");
    await store.delete("echo");
    await expect(kernel.reloadState("echo")).resolves.toBe(false);
    await expect(kernel.reloadState("nobody")).rejects.toMatchObject({ code: "SERVICE_NOT_FOUND" });
    await kernel.close();
  });
});
