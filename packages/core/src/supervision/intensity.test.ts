import { describe, expect, it } from "vitest";
import { RestartWindow } from "./intensity.ts";

describe("RestartWindow", () => {
  it("admits maxRestarts within the period, refuses one more, and forgets old ones", () => {
    const window = new RestartWindow();
    expect(window.admit(0, 1000, 2)).toBe(true);
    expect(window.admit(10, 1000, 2)).toBe(true);
    expect(window.admit(20, 1000, 2)).toBe(false);
    expect(window.count(20, 1000)).toBe(2);
    expect(window.admit(1000, 1000, 2)).toBe(true);
    expect(window.count(1005, 1000)).toBe(2);
    expect(window.count(1010, 1000)).toBe(1);
  });

  it("with maxRestarts 0 gives up at the first crash", () => {
    expect(new RestartWindow().admit(0, 1000, 0)).toBe(false);
  });
});
