import { describe, expect, it } from "vitest";
import { KernelClosedError } from "./errors.ts";
import { OperationGate, targetOf } from "./operation-gate.ts";

describe("OperationGate", () => {
  it("lets operations in flight finish before the shutdown runs, and refuses new ones", async () => {
    const gate = new OperationGate();
    const order: string[] = [];
    let finish!: () => void;
    const running = gate.run("start", () =>
      new Promise<void>((resolve) => (finish = resolve)).then(() => void order.push("op")),
    );
    const closing = gate.close(async () => void order.push("shutdown"));
    await expect(gate.run("register", async () => undefined, "x")).rejects.toBeInstanceOf(KernelClosedError);
    expect(gate.closed).toBe(false);
    finish();
    await running;
    await closing;
    expect(order).toEqual(["op", "shutdown"]);
    expect(gate.closed).toBe(true);
  });

  it("waits for a failing operation too, and closes once (same promise)", async () => {
    const gate = new OperationGate();
    const failing = gate.run("start", () => Promise.reject(new Error("no")));
    const first = gate.close(async () => undefined);
    expect(gate.close(async () => undefined)).toBe(first);
    await expect(failing).rejects.toThrow("no");
    await first;
    expect(gate.closed).toBe(true);
  });

  it("turns a synchronous throw into a rejection and is closed even when the shutdown fails", async () => {
    const gate = new OperationGate();
    await expect(
      gate.run("x", () => {
        throw new Error("sync");
      }),
    ).rejects.toThrow("sync");
    await expect(gate.close(() => Promise.reject(new Error("stopAll failed")))).rejects.toThrow("stopAll failed");
    expect(gate.closed).toBe(true);
  });
});

describe("targetOf", () => {
  it("reads `to` without trusting the event", () => {
    expect(targetOf({ to: "a" })).toBe("a");
    expect(targetOf({ to: 1 })).toBe("");
    expect(targetOf(null)).toBe("");
    expect(
      targetOf({
        get to(): string {
          throw new Error("getter");
        },
      }),
    ).toBe("");
  });
});
