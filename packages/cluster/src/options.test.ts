import { describe, expect, it } from "vitest";
import { MemoryStateStore } from "@mk/state";
import { clusterStore } from "./cluster-store.ts";
import { InvalidArgumentError } from "./errors.ts";
import { resolveOptions } from "./options.ts";

describe("join options", () => {
  it("fills the defaults", () => {
    expect(resolveOptions({ servers: "nats://127.0.0.1:1", node: "n1" })).toEqual({
      servers: ["nats://127.0.0.1:1"],
      node: "n1",
      namespace: "default",
      heartbeatMs: 250,
      deadAfterMs: 1000,
      maxPayloadBytes: 1_048_576,
      leaveTimeoutMs: 10_000,
      store: undefined,
      leaseMs: 3000,
    });
  });

  it("refuses garbage with a typed error saying what was expected and what came", () => {
    const cases: [unknown, RegExp][] = [
      [null, /expected join options to be an object, got null/],
      ["nats://x", /expected join options to be an object, got "nats:\/\/x"/],
      [{ node: "n1" }, /expected servers to be a URL or a non-empty array of URLs, got undefined/],
      [{ servers: [], node: "n1" }, /expected servers .* got an array/],
      [{ servers: "nats://x", node: "../n" }, /expected node to be a name like "node-1" .* got "..\/n"/],
      [{ servers: "nats://x", node: 7 }, /expected node .* got 7/],
      [{ servers: "nats://x", node: "n", namespace: "a.b" }, /expected namespace to match .* got "a.b"/],
      [
        { servers: "nats://x", node: "n", heartbeatMs: 0 },
        /expected heartbeatMs to be an integer in \[10, 60000\], got 0/,
      ],
      [{ servers: "nats://x", node: "n", deadAfterMs: "1s" }, /expected deadAfterMs .* got "1s"/],
      [{ servers: "nats://x", node: "n", heartbeatMs: 500, deadAfterMs: 900 }, /more than twice heartbeatMs/],
      [{ servers: "nats://x", node: "n", token: 1 }, /expected token to be a string, got 1/],
      [{ servers: "nats://x", node: "n", logger: {} }, /expected logger to be a Logger/],
      [{ servers: "nats://x", node: "n", timeout: 5 }, /unknown join option "timeout"/],
      [
        { servers: "nats://x", node: "n", store: {} },
        /expected store to be a ClusterStateStore \(wrap .*clusterStore\(\)/,
      ],
      [{ servers: "nats://x", node: "n", leaseMs: 3000 }, /leaseMs needs store/],
      [
        { servers: "nats://x", node: "n", store: clusterStore(new MemoryStateStore()), leaseMs: 5 },
        /expected leaseMs to be an integer in \[100, 600000\], got 5/,
      ],
    ];
    for (const [options, message] of cases) {
      expect(() => resolveOptions(options)).toThrow(InvalidArgumentError);
      expect(() => resolveOptions(options)).toThrow(message);
    }
  });
});
