import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeadlineWheel, WheelNode } from "./deadline-wheel.ts";

class Node extends WheelNode {
  constructor(readonly id: number) {
    super();
  }
}

// Fake timers: the wheel counts interval firings, never a clock, so ticks are exact here.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function wheel(tickMs = 5): { wheel: DeadlineWheel<Node>; expired: number[] } {
  const expired: number[] = [];
  return { wheel: new DeadlineWheel<Node>(tickMs, (node) => expired.push(node.id)), expired };
}

describe("DeadlineWheel", () => {
  it("covers a timeout with one tick to spare (the current tick is partly gone)", () => {
    const { wheel: w } = wheel(5);
    expect(w.ticksFor(5)).toBe(2);
    expect(w.ticksFor(6)).toBe(3);
    expect(w.ticksFor(1)).toBe(2);
  });

  it("expires a node after exactly its ticks, never earlier", () => {
    const { wheel: w, expired } = wheel(5);
    w.add(new Node(1), 3);
    vi.advanceTimersByTime(10);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(5);
    expect(expired).toEqual([1]);
    expect(w.size).toBe(0);
  });

  it("expires nodes of one slot that are due, and keeps those a revolution ahead", () => {
    const { wheel: w, expired } = wheel(1);
    w.add(new Node(1), 2);
    // 1024 slots: 1026 ticks lands in the same slot one revolution later.
    w.add(new Node(2), 1026);
    vi.advanceTimersByTime(2);
    expect(expired).toEqual([1]);
    expect(w.size).toBe(1);
    vi.advanceTimersByTime(1024);
    expect(expired).toEqual([1, 2]);
  });

  it("does not expire a removed node; removing twice is a no-op", () => {
    const { wheel: w, expired } = wheel(5);
    const a = new Node(1);
    const b = new Node(2);
    w.add(a, 2);
    w.add(b, 2);
    w.remove(a);
    w.remove(a);
    expect(w.size).toBe(1);
    vi.advanceTimersByTime(10);
    expect(expired).toEqual([2]);
  });

  it("visits every node with forEach, and its timer runs only while nodes are pending", () => {
    const { wheel: w } = wheel(5);
    const timers = (): number => vi.getTimerCount();
    expect(timers()).toBe(0);
    for (let i = 0; i < 5; i++) w.add(new Node(i), 10 + i);
    expect(timers()).toBe(1);
    const seen: number[] = [];
    w.forEach((node) => seen.push(node.id));
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    vi.advanceTimersByTime(100);
    expect(w.size).toBe(0);
    expect(timers()).toBe(0);
  });

  it("stop() clears the timer and leaves the nodes", () => {
    const { wheel: w, expired } = wheel(5);
    w.add(new Node(1), 2);
    w.stop();
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([]);
    expect(w.size).toBe(1);
  });
});
