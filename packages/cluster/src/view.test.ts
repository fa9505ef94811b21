import { describe, expect, it } from "vitest";
import type { Announce } from "./announce.ts";
import { ClusterView, type GoneReason } from "./view.ts";

function announce(node: string, id: string, seq: number, services: Announce["services"], leaving = false): Announce {
  const a: Announce = { node, id, seq, services };
  if (leaving) a.leaving = true;
  return a;
}

const running = (name: string, draining = false): Announce["services"][number] =>
  draining ? { name, status: "running", draining: true } : { name, status: "running" };

function view(): { view: ClusterView; gone: [string, GoneReason][] } {
  const gone: [string, GoneReason][] = [];
  return { view: new ClusterView(1000, { gone: (node, reason) => void gone.push([node, reason]) }), gone };
}

describe("ClusterView", () => {
  it("balances round robin over the nodes running a service, draining ones only as a last resort", () => {
    const { view: v } = view();
    v.apply(announce("a", "1", 1, [running("echo")]), 0);
    v.apply(announce("b", "1", 1, [running("echo")]), 0);
    v.apply(announce("c", "1", 1, [running("echo", true), { name: "off", status: "stopped" }]), 0);
    const picks = Array.from({ length: 6 }, () => v.pick("echo"));
    expect(picks.filter((n) => n === "a")).toHaveLength(3);
    expect(picks.filter((n) => n === "b")).toHaveLength(3);
    expect(v.pick("echo", new Set(["a", "b"]))).toBe("c");
    expect(v.pick("off")).toBeUndefined();
    expect(v.pick("nothing")).toBeUndefined();
  });

  it("drops a silent node after deadAfterMs, remembering its services (503, not 404)", () => {
    const { view: v, gone } = view();
    v.apply(announce("a", "1", 1, [running("echo")]), 0);
    v.sweep(900);
    expect(v.nodes()).toEqual(["a"]);
    v.sweep(1001);
    expect(v.nodes()).toEqual([]);
    expect(gone).toEqual([["a", "silent"]]);
    expect(v.pick("echo")).toBeUndefined();
    expect(v.lastKnown("echo")).toBe("a");
  });

  it("replaces a restarted node (new instance id) and forgets a node that left", () => {
    const { view: v, gone } = view();
    v.apply(announce("a", "1", 5, [running("echo")]), 0);
    v.apply(announce("a", "2", 1, [running("echo")]), 10);
    expect(gone).toEqual([["a", "restarted"]]);
    expect(v.pick("echo")).toBe("a");
    v.apply(announce("a", "2", 2, [running("echo")], true), 20);
    expect(gone).toEqual([
      ["a", "restarted"],
      ["a", "left"],
    ]);
    expect(v.lastKnown("echo")).toBeUndefined();
  });

  it("ignores an old heartbeat of the same instance but counts it as a sign of life", () => {
    const { view: v } = view();
    v.apply(announce("a", "1", 5, [running("echo")]), 0);
    v.apply(announce("a", "1", 4, []), 800);
    expect(v.pick("echo")).toBe("a");
    v.sweep(1500);
    expect(v.nodes()).toEqual(["a"]);
  });

  it("a heartbeat still on the way from an instance that left does not bring it back (defect: a graceful leave then answered 503, not 404)", () => {
    const { view: v, gone } = view();
    v.apply(announce("a", "1", 1, [running("late")]), 0);
    v.apply(announce("a", "1", 3, [running("late")], true), 10);
    v.apply(announce("a", "1", 2, [running("late")]), 20);
    v.apply(announce("a", "1", 4, [running("late")]), 30);
    expect(v.nodes()).toEqual([]);
    expect(v.lastKnown("late")).toBeUndefined();
    v.sweep(5000);
    expect(gone).toEqual([["a", "left"]]);
    // The same name joining again is a new instance, welcome.
    v.apply(announce("a", "2", 1, [running("late")]), 40);
    expect(v.nodes()).toEqual(["a"]);
  });

  it("knows which services have state from their roles", () => {
    const { view: v } = view();
    v.apply(announce("a", "1", 1, [{ name: "ledger", status: "created", role: "standby" }, running("echo")]), 0);
    expect(v.stateful("ledger")).toBe(true);
    expect(v.stateful("echo")).toBe(false);
    expect(v.stateful("nothing")).toBe(false);
  });
});
