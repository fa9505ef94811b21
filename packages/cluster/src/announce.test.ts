import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Announce, decodeAnnounce, encodeAnnounce } from "./announce.ts";

const MAX = 1_048_576;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("heartbeats", () => {
  it("round-trip what a node announces", () => {
    const announce: Announce = {
      node: "node-1",
      id: "abc",
      seq: 7,
      services: [
        { name: "echo", version: "2", status: "running" },
        { name: "store", status: "running", role: "standby", draining: true },
        { name: "ledger", version: "1.0.0", status: "created", role: "standby", needsVersion: "2.0.0" },
      ],
    };
    expect(decodeAnnounce("node-1", encodeAnnounce(announce), MAX)).toEqual(announce);
    expect(decodeAnnounce("node-1", encodeAnnounce({ ...announce, leaving: true }), MAX)).toMatchObject({
      leaving: true,
    });
  });

  it("refuse what does not have the shape, saying why", () => {
    const ok = { wire: 1, node: "n", id: "i", seq: 1, services: [] };
    const cases: [unknown, RegExp][] = [
      [{ ...ok, wire: 2 }, /expected wire 1/],
      [{ ...ok, node: "other" }, /expected node "n"/],
      [{ ...ok, id: "" }, /expected an instance id/],
      [{ ...ok, seq: -1 }, /expected a seq/],
      [{ ...ok, services: {} }, /expected services/],
      [{ ...ok, services: [{ name: "../x", status: "running" }] }, /name rule/],
      [{ ...ok, services: [{ name: "x", status: "zombie" }] }, /unknown status/],
      [{ ...ok, services: [{ name: "x", status: "running", role: "king" }] }, /expected role/],
      [{ ...ok, services: [{ name: "x", status: "created", needsVersion: 2 }] }, /expected needsVersion/],
      [{ ...ok, services: [{ name: "x", status: "created", needsVersion: "9".repeat(257) }] }, /expected needsVersion/],
      [[1], /expected a JSON object/],
    ];
    for (const [value, problem] of cases) {
      const decoded = decodeAnnounce("n", bytes(JSON.stringify(value)), MAX);
      expect("problem" in decoded && decoded.problem).toMatch(problem);
    }
    expect(decodeAnnounce("n", bytes("{"), MAX)).toEqual({ problem: "heartbeat is not UTF-8 JSON" });
    expect(decodeAnnounce("n", bytes("{}"), 1)).toMatchObject({ problem: expect.stringMatching(/exceeds the limit/) });
  });

  it("never throw on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
        const decoded = decodeAnnounce("n", raw, MAX);
        expect("problem" in decoded ? typeof decoded.problem : "ok").toBeTypeOf("string");
      }),
      { numRuns: 300 },
    );
  });
});
