import fc from "fast-check";
import { STATE_NAME_PATTERN } from "@mk/state";
import { describe, expect, it } from "vitest";
import { decodeValue, encodeValue, HEADER_LENGTH, keyOf, nameOf } from "./value-header.ts";

const KV_KEY = /^[-/_=.a-zA-Z0-9]+$/;

describe("value header", () => {
  it("round-trips the epoch and the sealed bytes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ maxLength: 64 }),
        (epoch, sealed) => {
          const value = encodeValue(epoch, sealed);
          expect(value.length).toBe(HEADER_LENGTH + sealed.length);
          const decoded = decodeValue(value, "svc", "test");
          expect(decoded.epoch).toBe(epoch);
          expect([...decoded.sealed]).toEqual([...sealed]);
        },
      ),
    );
  });

  it("refuses what is not an mk value (STATE_CORRUPT) and newer formats (STATE_UNSUPPORTED_VERSION)", () => {
    expect(() => decodeValue(new Uint8Array(3), "svc", "test")).toThrow(
      expect.objectContaining({ code: "STATE_CORRUPT" }),
    );
    expect(() => decodeValue(new TextEncoder().encode('{"not":"mk value"}'), "svc", "test")).toThrow(
      expect.objectContaining({ code: "STATE_CORRUPT" }),
    );
    const newer = encodeValue(1, new Uint8Array(4));
    newer[2] = 2;
    expect(() => decodeValue(newer, "svc", "test")).toThrow(
      expect.objectContaining({ code: "STATE_UNSUPPORTED_VERSION" }),
    );
    const huge = encodeValue(0, new Uint8Array(0));
    new DataView(huge.buffer).setBigUint64(4, 2n ** 60n);
    expect(() => decodeValue(huge, "svc", "test")).toThrow(expect.objectContaining({ code: "STATE_CORRUPT" }));
  });
});

describe("keys", () => {
  it("property: every service name maps to a valid KV key (no empty token) and back, and distinct names stay distinct", () => {
    const name = fc.stringMatching(STATE_NAME_PATTERN);
    fc.assert(
      fc.property(name, name, (a, b) => {
        const key = keyOf(a);
        expect(key).toMatch(KV_KEY);
        expect(key.split(".").every((token) => token !== "")).toBe(true);
        expect(nameOf(key)).toBe(a);
        if (a !== b) expect(keyOf(b)).not.toBe(key);
      }),
      { numRuns: 2_000 },
    );
  });
});
