// Hot swap of an isolated service to new code while calls keep coming: none
// is lost, and the new version (in a fresh isolate) continues from the old
// one's state.
import { MemoryStateStore } from "@mk/state";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { Reply } from "@mk/core";
import { isolated } from "../src/index.ts";
import { fixture, MODES, testKernel, type TestKernel } from "./helpers.ts";

const open: TestKernel[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.kernel.close({ stopAll: true });
});

describe.each(MODES)("hot swap under load (%s)", (mode) => {
  it("loses no call and v2 sees v1's state", { timeout: 120_000 }, async () => {
    const t = testKernel({ store: new MemoryStateStore() });
    open.push(t);
    await t.kernel.register(isolated({ name: "echo", module: fixture("echo.mjs"), mode, version: "1" }));
    await t.kernel.start("echo");
    const calls: Promise<Reply>[] = [];
    let sending = true;
    const pump = (async () => {
      // Waves of concurrent calls for as long as the swap takes (bounded in count).
      for (let wave = 0; sending && wave < 2000; wave++) {
        for (let i = 0; i < 10; i++)
          calls.push(t.kernel.send({ to: "echo", from: "test", type: "echo", timeoutMs: 60_000 }));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await t.kernel.replace(isolated({ name: "echo", module: fixture("echo-v2.mjs"), mode, version: "2" }));
    // However slow the machine, some calls surely reach v2.
    for (let i = 0; i < 10; i++)
      calls.push(t.kernel.send({ to: "echo", from: "test", type: "echo", timeoutMs: 60_000 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    sending = false;
    await pump;
    const replies = await Promise.all(calls);
    expect(replies.filter((r) => r.code !== 0)).toEqual([]);
    const data = replies.map((r) => r.data as { version: string; count: number });
    // Every call counted once, across both versions: the counts are exactly 1..n.
    expect(data.map((d) => d.count).sort((a, b) => a - b)).toEqual(
      Array.from({ length: calls.length }, (_, i) => i + 1),
    );
    expect(data.some((d) => d.version === "1")).toBe(true);
    expect(data.some((d) => d.version === "2")).toBe(true);
    expect(t.kernel.services()[0]).toMatchObject({ version: "2", status: "running" });
  });
});

describe("random crash/restart/swap/call interleavings (property)", () => {
  type Op = { kind: "call" | "park" | "crash" | "swap" | "restart" | "wait"; n: number };
  const op: fc.Arbitrary<Op> = fc.record({
    kind: fc.constantFrom("call", "call", "call", "park", "crash", "swap", "restart", "wait"),
    n: fc.integer({ min: 1, max: 5 }),
  });

  it("answers every call exactly once", { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
        const t = testKernel({ supervision: { backoff: { initialMs: 1, maxMs: 5 }, maxRestarts: 100 } });
        const answers = new Map<number, number>();
        const calls: Promise<void>[] = [];
        let next = 0;
        const send = (type: string, content?: unknown): void => {
          const id = next++;
          answers.set(id, 0);
          calls.push(
            t.kernel.send({ to: "echo", from: "test", type, content, timeoutMs: 20_000 }).then((reply) => {
              expect([0, 404, 408, 503]).toContain(reply.code);
              answers.set(id, (answers.get(id) ?? 0) + 1);
            }),
          );
        };
        try {
          await t.kernel.register(isolated({ name: "echo", module: fixture("echo.mjs") }));
          await t.kernel.start("echo");
          let version = 1;
          for (const { kind, n } of ops) {
            if (kind === "call") for (let i = 0; i < n; i++) send("echo");
            else if (kind === "park") send("slow", 200);
            else if (kind === "crash") send("exit");
            else if (kind === "wait") await new Promise((resolve) => setTimeout(resolve, n * 20));
            else if (kind === "swap") {
              version = 3 - version;
              const module = fixture(version === 1 ? "echo.mjs" : "echo-v2.mjs");
              await t.kernel.replace(isolated({ name: "echo", module })).catch(() => undefined);
            } else {
              await t.kernel.stop("echo").catch(() => undefined);
              await t.kernel.start("echo").catch(() => undefined);
            }
          }
          await Promise.all(calls);
          expect([...answers.values()].every((count) => count === 1)).toBe(true);
        } finally {
          await t.kernel.close({ stopAll: true }).catch(() => undefined);
        }
      }),
      { numRuns: 12, endOnFailure: true },
    );
  });
});
