// An isolated service is an ordinary Service: the kernel's codes, deadlines,
// logger and state work across the boundary, in a thread and in a process.
import { ReplyCode, StartFailedError, type Reply } from "@mk/core";
import { MemoryStateStore } from "@mk/state";
import { afterEach, describe, expect, it } from "vitest";
import { isolated, ModuleLoadError } from "../src/index.ts";
import { fixture, MODES, testKernel, type TestKernel } from "./helpers.ts";

const open: TestKernel[] = [];
function kernelFor(...args: Parameters<typeof testKernel>): TestKernel {
  const t = testKernel(...args);
  open.push(t);
  return t;
}
afterEach(async () => {
  for (const t of open.splice(0)) await t.kernel.close({ stopAll: true });
});

const send = (t: TestKernel, type: string, content?: unknown, timeoutMs?: number): Promise<Reply> =>
  t.kernel.send({ to: "echo", from: "test", type, content, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

describe.each(MODES)("isolated service (%s)", (mode) => {
  it("answers, logs through the kernel's sinks, and keeps the handler's codes", async () => {
    const t = kernelFor();
    await t.kernel.register(isolated({ name: "echo", module: fixture("echo.mjs"), mode }));
    await t.kernel.start("echo");
    expect(await send(t, "echo", { n: 1 })).toEqual({
      code: 0,
      message: "ok",
      data: { content: { n: 1 }, version: "1", count: 1 },
    });
    expect((await send(t, "nope")).code).toBe(400);
    const threw = await send(t, "throw");
    expect(threw.code).toBe(ReplyCode.HANDLER_FAILED);
    expect(threw.message).toContain("handler says no");
    expect(await send(t, "log", "there")).toEqual({ code: 0, message: "logged" });
    // The debug line is below the kernel logger's level: dropped inside the isolate.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = t.lines();
    expect(lines).toContain("[echo] hello there from the isolate");
    expect(lines).toContain("[echo] console line");
    expect(lines.some((l) => l.includes("debug line"))).toBe(false);
    expect(t.kernel.services()[0]).toMatchObject({ name: "echo", status: "running" });
  });

  it("carries the isolate's own calls through the kernel: same codes, deadlines and abort", async () => {
    const t = kernelFor();
    await t.kernel.register({
      name: "slow",
      handle: async (event) => {
        await new Promise((resolve) => setTimeout(resolve, Number(event.content)));
        return { code: 0, message: "slept", data: event.from };
      },
    });
    await t.kernel.register(isolated({ name: "echo", module: fixture("echo.mjs"), mode }));
    await t.kernel.startAll();
    const ok = await send(t, "ask", { to: "slow", type: "x", content: 1 });
    expect(ok).toEqual({ code: 0, message: "slept", data: "echo" });
    expect((await send(t, "ask", { to: "missing", type: "x" })).code).toBe(ReplyCode.NOT_FOUND);
    const late = await send(t, "ask", { to: "slow", type: "x", content: 2000, timeoutMs: 50 });
    expect(late.code).toBe(ReplyCode.TIMEOUT);
    expect(await send(t, "ask-abort", { to: "slow" })).toEqual({
      code: 0,
      message: "aborted",
      data: "changed my mind",
    });
  });

  it("refuses what structured clone cannot carry with a typed error, and goes on", async () => {
    const t = kernelFor();
    await t.kernel.register(isolated({ name: "echo", module: fixture("echo.mjs"), mode }));
    await t.kernel.start("echo");
    const [bad, good] = await Promise.all([send(t, "echo", { f: () => 1 }), send(t, "echo", "fine")]);
    expect(bad.code).toBe(ReplyCode.HANDLER_FAILED);
    expect(bad.message).toMatch(/the event cannot cross the isolate boundary/);
    expect(good.code).toBe(0);
    const reply = await send(t, "function-reply");
    expect(reply.code).toBe(ReplyCode.HANDLER_FAILED);
    expect(reply.message).toMatch(/the reply cannot cross the isolate boundary/);
    expect((await send(t, "echo", "after")).code).toBe(0);
  });

  it("imports saved state at start and exports it at stop, through the store", async () => {
    const store = new MemoryStateStore();
    await store.save("echo", { count: 41 });
    const t = kernelFor({ store });
    await t.kernel.register(isolated({ name: "echo", module: fixture("echo.mjs"), mode }));
    await t.kernel.start("echo");
    expect((await send(t, "echo")).data).toMatchObject({ count: 42 });
    await t.kernel.stop("echo");
    expect((await store.load("echo"))?.state).toEqual({ count: 42 });
    await t.kernel.start("echo");
    expect((await send(t, "count")).data).toBe(42);
  });

  it("ctx.checkpoint() inside the isolate saves through the kernel's store now", async () => {
    const store = new MemoryStateStore();
    const t = kernelFor({ store });
    await t.kernel.register(isolated({ name: "echo", module: fixture("echo.mjs"), mode }));
    await t.kernel.start("echo");
    await send(t, "echo");
    expect(await send(t, "checkpoint")).toEqual({ code: 0, message: "saved", data: 2 });
    expect((await store.load("echo"))?.state).toEqual({ count: 2 });
  });

  it("hot-swaps to new code in a fresh isolate with the old state", async () => {
    const t = kernelFor();
    await t.kernel.register(isolated({ name: "echo", module: fixture("echo.mjs"), mode }));
    await t.kernel.start("echo");
    await send(t, "echo");
    await send(t, "echo");
    await t.kernel.replace(isolated({ name: "echo", module: fixture("echo-v2.mjs"), mode, version: "2" }));
    expect((await send(t, "echo")).data).toMatchObject({ version: "2", count: 3 });
    expect(t.kernel.services()[0]).toMatchObject({ version: "2", status: "running" });
  });

  it("a handler stuck in the isolate gets 408 at its deadline while other services answer", async () => {
    const t = kernelFor();
    await t.kernel.register({ name: "other", handle: () => ({ code: 0, message: "here" }) });
    await t.kernel.register(isolated({ name: "echo", module: fixture("echo.mjs"), mode, hangTimeoutMs: 60_000 }));
    await t.kernel.startAll();
    const stuck = send(t, "slow", 5_000, 100);
    expect((await t.kernel.send({ to: "other", from: "test", type: "x" })).message).toBe("here");
    expect((await stuck).code).toBe(ReplyCode.TIMEOUT);
  });
});

describe("a stop that never finishes inside the isolate", () => {
  it("is bounded: the isolate is killed after stopTimeoutMs even with the heartbeat off", async () => {
    const t = kernelFor();
    await t.kernel.register(
      isolated({
        name: "echo",
        module: fixture("stuck-stop.mjs"),
        mode: "process",
        hangTimeoutMs: 0,
        stopTimeoutMs: 300,
      }),
    );
    await t.kernel.start("echo");
    const line = await (async () => {
      for (let i = 0; i < 3000; i++) {
        const found = t.lines().find((l) => l.startsWith("[echo] pid "));
        if (found !== undefined) return found;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error("no pid line");
    })();
    const pid = Number(line.slice("[echo] pid ".length));
    await t.kernel.stop("echo").catch(() => undefined);
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        // ESRCH: the process is gone, which is what this test waits for.
        return false;
      }
    };
    for (let i = 0; i < 3000 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(alive()).toBe(false);
  });
});

describe.each(MODES)("bad modules are typed errors at start, the kernel unharmed (%s)", (mode) => {
  const cases = [
    ["a missing file", "missing.mjs", "MODULE_NOT_FOUND"],
    ["no default export", "no-default.mjs", "NO_DEFAULT_EXPORT"],
    ["a default export that is not a service", "not-service.mjs", "NOT_A_SERVICE"],
    ["a class as default export", "class-service.mjs", "NOT_A_SERVICE"],
    ["a module that throws at import", "throws.mjs", "MODULE_IMPORT_FAILED"],
  ] as const;
  it.each(cases)("%s", async (_what, file, code) => {
    const t = kernelFor();
    await t.kernel.register({ name: "other", handle: () => ({ code: 0, message: "here" }) });
    await t.kernel.register(isolated({ name: "echo", module: fixture(file), mode }));
    const error: unknown = await t.kernel.start("echo").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartFailedError);
    const cause = (error as StartFailedError).cause;
    expect(cause).toBeInstanceOf(ModuleLoadError);
    expect((cause as ModuleLoadError).code).toBe(code);
    expect((cause as ModuleLoadError).message).toContain(file);
    expect(t.kernel.status("echo")).toBe("failed");
    await t.kernel.start("other");
    expect((await t.kernel.send({ to: "other", from: "test", type: "x" })).message).toBe("here");
  });

  it("a start that throws inside the isolate is the kernel's StartFailedError with the isolate's message", async () => {
    const t = kernelFor();
    await t.kernel.register(isolated({ name: "echo", module: fixture("start-fails.mjs"), mode }));
    const error: unknown = await t.kernel.start("echo").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartFailedError);
    expect((error as Error).message).toContain("start refused");
  });
});
