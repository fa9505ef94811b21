// Crashes of real isolates under a load of concurrent calls: the kernel
// survives, the calls the dead isolate held are answered 503 long before
// their deadlines, the service comes back with its last saved state, the
// calls held meanwhile are served, and every call gets exactly one answer.
import type { Reply, SupervisionEvent } from "@mk/core";
import { MemoryStateStore } from "@mk/state";
import { afterEach, describe, expect, it } from "vitest";
import { isolated } from "../src/index.ts";
import { fixture, testKernel, waitFor, type TestKernel } from "./helpers.ts";

const open: TestKernel[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.kernel.close({ stopAll: true });
});

const DEADLINE = 60_000;
const LOAD = 40;

interface Counted {
  replies: Reply[];
  answers: number;
}

/** Sends and counts answers per call: a second answer to one call would show up as answers > calls. */
function tracked(t: TestKernel, type: string, content: unknown, into: Counted): Promise<Reply> {
  return t.kernel.send({ to: "echo", from: "test", type, content, timeoutMs: DEADLINE }).then((reply) => {
    into.answers += 1;
    into.replies.push(reply);
    return reply;
  });
}

type Crash = "exit" | "throw-in-timer" | "abort" | "oom" | "hang";
const cases: [mode: "thread" | "process", crash: Crash, kind: string][] = [
  ["thread", "exit", "ISOLATE_CRASHED"],
  ["thread", "throw-in-timer", "ISOLATE_CRASHED"],
  ["thread", "oom", "ISOLATE_OUT_OF_MEMORY"],
  ["thread", "hang", "ISOLATE_HUNG"],
  ["process", "exit", "ISOLATE_CRASHED"],
  ["process", "throw-in-timer", "ISOLATE_CRASHED"],
  ["process", "abort", "ISOLATE_CRASHED"],
  ["process", "oom", "ISOLATE_OUT_OF_MEMORY"],
  ["process", "hang", "ISOLATE_HUNG"],
];

describe("a crashing isolate under load", () => {
  it.each(cases)("%s: %s", { timeout: 120_000 }, async (mode, crash, code) => {
    const store = new MemoryStateStore();
    const t = testKernel({ store, supervision: { backoff: { initialMs: 10, maxMs: 20 }, maxRestarts: 5 } });
    open.push(t);
    const events: string[] = [];
    let crashError: (Error & { code?: string }) | undefined;
    t.kernel.on("crash", (e: SupervisionEvent) => {
      events.push(`crash:${e.restarts}`);
      crashError = e.error;
    });
    t.kernel.on("restart", (e: SupervisionEvent) => events.push(`restart:${e.restarts}`));
    await t.kernel.register({ name: "other", handle: () => ({ code: 0, message: "here" }) });
    await t.kernel.register(
      isolated({
        name: "echo",
        module: fixture("echo.mjs"),
        mode,
        // Short only for the hang case: an isolate near its heap cap thrashes in GC long enough to look hung.
        hangTimeoutMs: crash === "hang" ? 1000 : 30_000,
        resourceLimits: { maxOldGenerationSizeMb: 48 },
      }),
    );
    await t.kernel.startAll();
    for (let i = 0; i < 5; i++) await t.kernel.send({ to: "echo", from: "test", type: "echo" });
    await t.kernel.checkpoint(); // saved: count 5
    await t.kernel.send({ to: "echo", from: "test", type: "echo" }); // count 6: lost in the crash

    const inFlight: Counted = { replies: [], answers: 0 };
    const load = Array.from({ length: LOAD }, () => tracked(t, "slow", 30_000, inFlight));
    const crashed = tracked(t, crash, undefined, inFlight);
    await waitFor(() => events.includes("crash:0"), "the crash");
    // New calls while it is down: held, then served by the restarted instance in arrival order.
    const later: Counted = { replies: [], answers: 0 };
    const held = Array.from({ length: 10 }, () => tracked(t, "echo", "after", later));
    // The kernel and the other services never stopped answering.
    expect((await t.kernel.send({ to: "other", from: "test", type: "x" })).message).toBe("here");

    const answered = await Promise.all([...load, crashed]);
    for (const reply of answered) {
      // 503, not 408: answered when the isolate died, not at the calls' deadline (60 s away).
      expect(reply.code).toBe(503);
      expect(reply.message).toMatch(/isolated service "echo" crashed|service "echo" crashed/);
    }
    expect(crashError?.code).toBe(code);

    const served = await Promise.all(held);
    expect(served.map((r) => r.code)).toEqual(Array(10).fill(0));
    // The restarted instance imported the last saved state (5): the held calls counted on from it, in order.
    expect(served.map((r) => (r.data as { count: number }).count)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(inFlight.answers).toBe(LOAD + 1);
    expect(later.answers).toBe(10);
    expect(events).toEqual(["crash:0", "restart:1"]);
    expect(t.kernel.services().find((s) => s.name === "echo")).toMatchObject({ status: "running", restarts: 1 });
  });
});

describe("restart types with isolates", () => {
  it(
    "transient: an isolate that exits 0 on its own is a normal end (stopped, not restarted); exit 3 restarts",
    { timeout: 120_000 },
    async () => {
      const t = testKernel({ supervision: { backoff: { initialMs: 5, maxMs: 10 } } });
      open.push(t);
      const events: string[] = [];
      for (const name of ["crash", "restart", "gave-up"] as const) t.kernel.on(name, () => events.push(name));
      await t.kernel.register(isolated({ name: "echo", module: fixture("echo.mjs"), restart: "transient" }));
      await t.kernel.start("echo");
      expect((await t.kernel.send({ to: "echo", from: "test", type: "exit" })).code).toBe(503);
      await waitFor(() => events.includes("restart"), "the restart after exit 3");
      await waitFor(() => t.kernel.status("echo") === "running", "running again");
      expect((await t.kernel.send({ to: "echo", from: "test", type: "exit0" })).code).toBe(503);
      await waitFor(() => t.kernel.status("echo") === "stopped", "a normal end");
      expect(events).toEqual(["crash", "restart", "crash"]);
      expect((await t.kernel.send({ to: "echo", from: "test", type: "echo" })).code).toBe(404);
      expect(t.lines().some((l) => l.includes("ended normally") && l.includes("transient: not restarted"))).toBe(true);
    },
  );
});

describe("restart intensity with isolates", () => {
  it(
    "gives up after maxRestarts within periodMs: failed, gave-up, the rest serving",
    { timeout: 120_000 },
    async () => {
      const t = testKernel({ supervision: { backoff: { initialMs: 5, maxMs: 10 }, maxRestarts: 1, periodMs: 60_000 } });
      open.push(t);
      const events: string[] = [];
      for (const name of ["crash", "restart", "gave-up"] as const) t.kernel.on(name, () => events.push(name));
      await t.kernel.register({ name: "other", handle: () => ({ code: 0, message: "here" }) });
      await t.kernel.register(isolated({ name: "echo", module: fixture("echo.mjs") }));
      await t.kernel.startAll();
      expect((await t.kernel.send({ to: "echo", from: "test", type: "exit" })).code).toBe(503);
      await waitFor(() => events.includes("restart"), "the restart");
      await waitFor(() => t.kernel.status("echo") === "running", "running again");
      expect((await t.kernel.send({ to: "echo", from: "test", type: "exit" })).code).toBe(503);
      await waitFor(() => events.includes("gave-up"), "giving up");
      expect(events).toEqual(["crash", "restart", "crash", "gave-up"]);
      expect(t.kernel.status("echo")).toBe("failed");
      expect((await t.kernel.send({ to: "echo", from: "test", type: "echo" })).code).toBe(404);
      expect((await t.kernel.send({ to: "other", from: "test", type: "x" })).message).toBe("here");
      expect(t.lines().some((l) => l.includes("gave up after 1 restart(s)"))).toBe(true);
    },
  );
});
