// Supervision with in-process services (ctx.fail): the isolate package's
// suites cover crashes of real threads and processes.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import {
  InvalidArgumentError,
  type Event,
  type Kernel,
  type KernelOptions,
  type Reply,
  type Service,
  type ServiceContext,
  type SupervisionEvent,
} from "@mk/core";
import { TestStore, testKernel } from "./helpers.ts";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const FAST = { backoff: { initialMs: 1, maxMs: 4 } };
const kernels: Kernel[] = [];
afterEach(async () => {
  for (const kernel of kernels.splice(0)) await kernel.close();
});

function make(options: KernelOptions = {}): ReturnType<typeof testKernel> & { events: string[] } {
  const t = testKernel({ supervision: FAST, ...options });
  kernels.push(t.kernel);
  const events: string[] = [];
  for (const name of ["crash", "restart", "gave-up"] as const) {
    t.kernel.on(name, (e: SupervisionEvent) => events.push(`${name}:${e.name}:${e.restarts}`));
  }
  return { ...t, events };
}

/** A counter whose "park" calls never settle and whose "crash" calls ctx.fail; its count survives through the store. */
function crashy(
  name: string,
  extra: Partial<Service> = {},
): Service & { ctx: ServiceContext | undefined; starts: number } {
  let count = 0;
  const svc = {
    name,
    ctx: undefined as ServiceContext | undefined,
    starts: 0,
    start(ctx: ServiceContext) {
      svc.ctx = ctx;
      svc.starts += 1;
    },
    handle(event: Event): Reply | Promise<Reply> {
      if (event.type === "park") return new Promise<Reply>(() => {});
      if (event.type === "crash") {
        svc.ctx?.fail(new Error("it broke"));
        return new Promise<Reply>(() => {});
      }
      count += 1;
      return { code: 0, message: "ok", data: count };
    },
    exportState: () => ({ count }),
    importState: (state: unknown) => {
      count = (state as { count: number }).count;
    },
    ...extra,
  };
  return svc;
}

const call = (kernel: Kernel, to: string, type = "inc", timeoutMs = 30_000): Promise<Reply> =>
  kernel.send({ to, from: "test", type, timeoutMs });

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("supervision (one_for_one)", () => {
  it("answers held calls 503 at once, holds new ones, restarts from the saved state, delivers in order", async () => {
    const store = new TestStore();
    const { kernel, events, log } = make({ store });
    const svc = crashy("c");
    await kernel.register(svc);
    await kernel.start("c");
    expect((await call(kernel, "c")).data).toBe(1);
    await kernel.checkpoint();
    expect((await call(kernel, "c")).data).toBe(2); // lost: after the last save
    const parked = [call(kernel, "c", "park"), call(kernel, "c", "park")];
    const crash = call(kernel, "c", "crash");
    const answers = await Promise.all([...parked, crash]);
    for (const reply of answers) {
      expect(reply.code).toBe(503);
      expect(reply.message).toMatch(/service "c" crashed: it broke/);
    }
    // New calls are held while it restarts, then served in arrival order by the new instance.
    const held = [call(kernel, "c"), call(kernel, "c"), call(kernel, "c")];
    const replies = await Promise.all(held);
    expect(replies.map((r) => r.data)).toEqual([2, 3, 4]);
    expect(svc.starts).toBe(2);
    expect(events).toEqual(["crash:c:0", "restart:c:1"]);
    expect(kernel.services()[0]).toMatchObject({ name: "c", status: "running", restarts: 1 });
    expect(
      log.lines().some((l) => /crashed: it broke; 3 call\(s\) in flight answered 503; restarting in \d+ ms/.test(l)),
    ).toBe(true);
    expect(log.lines().some((l) => /restarted c \(restart 1\)/.test(l))).toBe(true);
  });

  it("a held call whose deadline passes before the restart gets 408", async () => {
    const { kernel } = make({ supervision: { backoff: { initialMs: 300, maxMs: 300 } } });
    const svc = crashy("c");
    await kernel.register(svc);
    await kernel.start("c");
    void call(kernel, "c", "crash");
    const late = await call(kernel, "c", "inc", 20);
    expect(late.code).toBe(408);
    await until(() => kernel.status("c") === "running", "the restart");
    expect((await call(kernel, "c")).code).toBe(0);
  });

  it("temporary: not restarted, status failed, held calls 404", async () => {
    const { kernel, events } = make();
    await kernel.register(crashy("t", { restart: "temporary" }));
    await kernel.start("t");
    const crash = call(kernel, "t", "crash");
    expect((await crash).code).toBe(503);
    expect(kernel.status("t")).toBe("failed");
    expect((await call(kernel, "t")).code).toBe(404);
    expect(events).toEqual(["crash:t:0"]);
    await kernel.start("t");
    expect((await call(kernel, "t")).code).toBe(0);
  });

  it("transient: restarted after a crash, stopped after a normal end (reason with normal: true)", async () => {
    const { kernel, events } = make();
    const svc = crashy("t", { restart: "transient" });
    await kernel.register(svc);
    await kernel.start("t");
    await call(kernel, "t", "crash");
    await until(() => kernel.status("t") === "running", "the restart");
    svc.ctx?.fail(Object.assign(new Error("done"), { normal: true }));
    await until(() => kernel.status("t") === "stopped", "the normal end");
    expect((await call(kernel, "t")).code).toBe(404);
    expect(events).toEqual(["crash:t:0", "restart:t:1", "crash:t:1"]);
  });

  it("more than maxRestarts within periodMs gives up: failed, gave-up event, the rest serves", async () => {
    const { kernel, events, log } = make({ supervision: { ...FAST, maxRestarts: 2, periodMs: 60_000 } });
    await kernel.register(crashy("c"));
    await kernel.register({ name: "other", handle: () => ({ code: 0, message: "here" }) });
    await kernel.startAll();
    for (let i = 0; i < 2; i++) {
      await call(kernel, "c", "crash");
      await until(() => kernel.status("c") === "running", `restart ${i + 1}`);
    }
    expect((await call(kernel, "c", "crash")).code).toBe(503);
    expect(kernel.status("c")).toBe("failed");
    expect(events).toEqual(["crash:c:0", "restart:c:1", "crash:c:1", "restart:c:2", "crash:c:2", "gave-up:c:2"]);
    expect((await call(kernel, "c")).code).toBe(404);
    expect((await call(kernel, "other")).message).toBe("here");
    expect(
      log.lines().some((l) => /gave up after 2 restart\(s\) within 60000 ms: status failed, the rest runs on/.test(l)),
    ).toBe(true);
    expect(kernel.services().find((s) => s.name === "c")).toMatchObject({ status: "failed", restarts: 2 });
  });

  it("a start that fails during a restart counts as another crash", async () => {
    let starts = 0;
    const { kernel, events } = make({ supervision: { ...FAST, maxRestarts: 3 } });
    await kernel.register(
      crashy("c", {
        start(ctx: ServiceContext) {
          starts += 1;
          if (starts === 2) throw new Error("not yet");
          (this as { ctx?: ServiceContext }).ctx = ctx;
        },
      }),
    );
    await kernel.start("c");
    await call(kernel, "c", "crash");
    await until(() => kernel.status("c") === "running", "the second restart");
    expect(starts).toBe(3);
    expect(events).toEqual(["crash:c:0", "crash:c:0", "restart:c:1"]);
  });

  it("ignores fail() from a run that is over, and stop() cancels a pending restart", async () => {
    const { kernel, events } = make({ supervision: { backoff: { initialMs: 200, maxMs: 200 } } });
    const svc = crashy("c");
    await kernel.register(svc);
    await kernel.start("c");
    const old = svc.ctx as ServiceContext;
    await kernel.stop("c");
    await kernel.start("c");
    old.fail(new Error("late"));
    expect(kernel.status("c")).toBe("running");
    void call(kernel, "c", "crash");
    const held = call(kernel, "c");
    await kernel.stop("c");
    expect((await held).code).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(kernel.status("c")).toBe("failed");
    expect(events).toEqual(["crash:c:0"]);
  });

  it("stopAll() cancels pending restarts: nothing comes back behind its back", async () => {
    const { kernel, events } = make({ supervision: { backoff: { initialMs: 100, maxMs: 100 } } });
    await kernel.register(crashy("c"));
    await kernel.register(crashy("d"));
    await kernel.startAll();
    void call(kernel, "c", "crash");
    await until(() => events.includes("crash:c:0"), "the crash");
    const held = call(kernel, "c");
    await kernel.stopAll();
    expect((await held).code).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(kernel.status("c")).toBe("failed");
    expect(kernel.status("d")).toBe("stopped");
    expect(events).toEqual(["crash:c:0"]);
  });

  it("ctx.checkpoint() saves the state now", async () => {
    const store = new TestStore();
    const { kernel } = make({ store });
    const svc = crashy("c");
    await kernel.register(svc);
    await kernel.start("c");
    await call(kernel, "c");
    await svc.ctx?.checkpoint();
    expect(store.saves.at(-1)).toEqual({ name: "c", state: { count: 1 } });
  });

  it("refuses bad supervision options and restart types", async () => {
    expect(() => testKernel({ supervision: { maxRestarts: -1 } })).toThrow(InvalidArgumentError);
    const { kernel } = make();
    await expect(kernel.register({ name: "x", restart: "always" as never })).rejects.toThrow(/expected restart/);
  });
});

describe("supervision (rest_for_one)", () => {
  it("stops the crashed service's running dependents first and restarts them after it, dependencies first", async () => {
    const order: string[] = [];
    const { kernel } = make({ supervision: { ...FAST, strategy: "rest_for_one" } });
    const track = (name: string, dependencies: string[]): Service =>
      crashy(name, {
        dependencies,
        start(ctx: ServiceContext) {
          order.push(`start:${name}`);
          (this as { ctx?: ServiceContext }).ctx = ctx;
        },
        stop() {
          order.push(`stop:${name}`);
        },
      });
    await kernel.register(track("a", []));
    await kernel.register(track("b", ["a"]));
    await kernel.register(track("c", ["b"]));
    await kernel.register(track("other", []));
    await kernel.startAll();
    order.length = 0;
    await call(kernel, "a", "crash");
    await until(() => order.length >= 5, "the restarts");
    await until(() => kernel.status("c") === "running", "c");
    expect(order).toEqual(["stop:c", "stop:b", "start:a", "start:b", "start:c"]);
    expect((await call(kernel, "c")).code).toBe(0);
  });
});

describe("onGiveUp: exit (real child process)", () => {
  it("closes the kernel and exits with code 1", { timeout: 120_000 }, async () => {
    const run = await new Promise<{ stdout: string; code: number | null }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", join(fixtures, "give-up-child.ts")], {
        cwd: fixtures,
        env: { ...process.env, TSX_TSCONFIG_PATH: join(fixtures, "tsconfig.json") },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("error", reject);
      child.on("exit", (code) => {
        clearTimeout(killer);
        resolve({ stdout, code });
      });
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/gave up after 1 restart\(s\).*closing the kernel and exiting with code 1/);
    expect(run.stdout).toContain("stop:steady");
    expect(run.stdout).toContain("kernel closed");
  });
});
