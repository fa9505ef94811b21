import { describe, expect, it } from "vitest";
import { joinShare, leaveShare } from "./shared-dir.ts";

let keys = 0;
const freshKey = (): string => `test:${process.pid}:${++keys}`;

describe("shared-dir: the stores of one process on one directory", () => {
  it("concurrent joins lock once and share", async () => {
    const key = freshKey();
    let locks = 0;
    const lock = async (): Promise<() => Promise<void>> => {
      locks++;
      return async () => undefined;
    };
    const [a, b] = await Promise.all([joinShare(key, lock), joinShare(key, lock)]);
    expect(a).toBe(b);
    expect(a.users).toBe(2);
    expect(locks).toBe(1);
    await leaveShare(a);
    await leaveShare(b);
  });

  it("the last leave releases; a failed lock leaves nothing registered", async () => {
    const key = freshKey();
    let released = 0;
    const share = await joinShare(key, async () => async () => void released++);
    await leaveShare(share);
    expect(released).toBe(1);
    await expect(joinShare(key, () => Promise.reject(new Error("locked")))).rejects.toThrow("locked");
    const again = await joinShare(key, async () => undefined);
    expect(again).not.toBe(share);
    await leaveShare(again);
  });

  // Regression: a store opened while the last store of the process was closing took the
  // lock (its own claim file was still there) and the close then removed the lock files
  // under it, leaving a store that believed it held the directory while nothing did.
  it("a share made while the previous one is still releasing locks only after that release", async () => {
    const key = freshKey();
    const events: string[] = [];
    let finishRelease: () => void = () => undefined;
    const first = await joinShare(key, async () => {
      events.push("lock 1");
      return () =>
        new Promise<void>((resolve) => {
          events.push("release 1 started");
          finishRelease = () => {
            events.push("release 1 done");
            resolve();
          };
        });
    });
    const leaving = leaveShare(first);
    const joining = joinShare(key, async () => {
      events.push("lock 2");
      return async () => undefined;
    });
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(events).toEqual(["lock 1", "release 1 started"]);
    finishRelease();
    const second = await joining;
    await leaving;
    expect(events).toEqual(["lock 1", "release 1 started", "release 1 done", "lock 2"]);
    expect(second).not.toBe(first);
    await leaveShare(second);
  });
});
