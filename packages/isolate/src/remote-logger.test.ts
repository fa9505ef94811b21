import { describe, expect, it } from "vitest";
import { I_LOG } from "./protocol.ts";
import { RemoteLogger } from "./remote-logger.ts";

describe("RemoteLogger with @mk/logger's trace and fatal levels", () => {
  it("takes a level of trace (everything passes) or fatal (nothing its four methods log passes)", () => {
    const posted: unknown[][] = [];
    const log = new RemoteLogger("echo", "trace", (m) => posted.push(m));
    log.debug("d %d", 1);
    expect(posted).toEqual([[I_LOG, "debug", "echo", "d 1"]]);
    log.level = "fatal";
    log.error("e");
    expect(posted).toHaveLength(1);
    expect(log.isLevelEnabled("fatal")).toBe(true);
    expect(log.isLevelEnabled("error")).toBe(false);
    expect(() => {
      log.level = "verbose" as never;
    }).toThrow(TypeError);
  });
});
