import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyError } from "../errors.ts";
import { parseKey } from "./parse-key.ts";

describe("parseKey", () => {
  it("reads the three forms", () => {
    expect(parseKey("1234567890123456", "env X")).toEqual(new TextEncoder().encode("1234567890123456"));
    expect(parseKey(`hex:${"ab".repeat(32)}`, "env X")).toEqual(new Uint8Array(32).fill(0xab));
    expect(parseKey(`base64:${Buffer.alloc(24, 7).toString("base64")}`, "env X")).toEqual(new Uint8Array(24).fill(7));
  });

  it("refuses any other size with a KEY_INVALID naming the source", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const size = new TextEncoder().encode(text).length;
        if (text.startsWith("hex:") || text.startsWith("base64:") || [16, 24, 32].includes(size)) return;
        expect(() => parseKey(text, "key file /k")).toThrow(KeyError);
        expect(() => parseKey(text, "key file /k")).toThrow(/^invalid key in key file \/k: /);
      }),
    );
    expect(() => parseKey("hex:abc", "env X")).toThrow(/even number of hex digits/);
    expect(() => parseKey("base64:***", "env X")).toThrow(/non-base64/);
  });
});
