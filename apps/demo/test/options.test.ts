import { AesGcmCrypter } from "@mk/crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DemoError } from "../src/errors.ts";
import { DEMO_KEY, parseKey, REFERENCE_KEY } from "../src/key.ts";
import { parseOptions, userDirectory } from "../src/options.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("parseKey", () => {
  it("takes a 16/24/32-character string as its UTF-8 bytes, as the reference did", () => {
    expect(parseKey(REFERENCE_KEY, "test")).toEqual(bytes("1234567890123456"));
    expect(parseKey("x".repeat(24), "test")).toHaveLength(24);
    expect(parseKey(DEMO_KEY, "test")).toHaveLength(32);
  });

  it("takes hex: and base64: forms of 16, 24 and 32 bytes", () => {
    fc.assert(
      fc.property(fc.constantFrom(16, 24, 32), fc.uint8Array({ minLength: 32, maxLength: 32 }), (size, raw) => {
        const key = raw.slice(0, size);
        expect(parseKey(`hex:${Buffer.from(key).toString("hex")}`, "test")).toEqual(key);
        expect(parseKey(`base64:${Buffer.from(key).toString("base64")}`, "test")).toEqual(key);
      }),
    );
  });

  it("refuses every other size and malformed encodings with a DemoError naming the source", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const size = bytes(text).length;
        if ([16, 24, 32].includes(size) || text.startsWith("hex:") || text.startsWith("base64:")) return;
        expect(() => parseKey(text, "MK_STATE_KEY")).toThrow(
          /invalid key in MK_STATE_KEY: expected 16, 24 or 32 bytes/,
        );
      }),
    );
    for (const bad of ["hex:abc", "hex:zz".padEnd(68, "z"), "hex:" + "00".repeat(15), "base64:***", "base64:AAAA"]) {
      expect(() => parseKey(bad, "--key"), bad).toThrow(DemoError);
    }
    // Multi-byte characters count in bytes, not characters.
    expect(() => parseKey("é".repeat(10), "--key")).toThrow(/got 20$/);
    expect(parseKey("é".repeat(8), "--key")).toHaveLength(16);
  });
});

describe("parseKey and @mk/crypto agree (issue 13 item 13)", () => {
  it("a key text the demo accepts is the same key when given to AesGcmCrypter as a string", async () => {
    const plain = bytes("{}");
    const raw = Uint8Array.from({ length: 32 }, (_, i) => (i * 53 + 7) & 0xff);
    for (const text of [
      REFERENCE_KEY,
      DEMO_KEY,
      `hex:${Buffer.from(raw).toString("hex")}`,
      `base64:${Buffer.from(raw.subarray(0, 24)).toString("base64")}`,
    ]) {
      const sealed = await new AesGcmCrypter(parseKey(text, "test")).encrypt(plain);
      expect(await new AesGcmCrypter(text).decrypt(sealed), text).toEqual(plain);
    }
  });
});

describe("parseOptions", () => {
  it("defaults: ./state of the user's directory, the demo key, 200 ms checkpoints", () => {
    const options = parseOptions([], {}, "/home/u/project");
    expect(options).toMatchObject({
      help: false,
      stateDir: "/home/u/project/state",
      reset: false,
      keySource: "demo",
      importLegacy: undefined,
      legacyKeySource: "reference",
      checkpointMs: 200,
      level: "info",
    });
    expect(options.legacyKey).toEqual(bytes(REFERENCE_KEY));
  });

  it("reads every flag, resolving paths against the user's directory", () => {
    const options = parseOptions(
      [
        "--state-dir",
        "s",
        "--reset",
        "--import-legacy",
        "/old",
        "--legacy-key",
        "6543210987654321",
        "--checkpoint-ms",
        "0",
        "--level",
        "debug",
      ],
      { MK_STATE_KEY: REFERENCE_KEY },
      "/u",
    );
    expect(options).toMatchObject({
      stateDir: "/u/s",
      reset: true,
      keySource: "MK_STATE_KEY",
      importLegacy: "/old",
      legacyKeySource: "--legacy-key",
      checkpointMs: 0,
      level: "debug",
    });
  });

  it("prefers --key over MK_STATE_KEY, and ignores an empty MK_STATE_KEY", () => {
    expect(parseOptions(["--key", "k".repeat(16)], { MK_STATE_KEY: REFERENCE_KEY }, "/").key).toEqual(
      bytes("k".repeat(16)),
    );
    expect(parseOptions([], { MK_STATE_KEY: "" }, "/").keySource).toBe("demo");
  });

  it("accepts a leading -- (what `pnpm demo -- --reset` passes on)", () => {
    expect(parseOptions(["--", "--reset"], {}, "/").reset).toBe(true);
  });

  it("refuses bad input with exit code 2", () => {
    for (const args of [
      ["--nope"],
      ["pos"],
      ["--checkpoint-ms", "-1"],
      ["--checkpoint-ms", "1e3"],
      ["--level", "trace"],
      ["--state-dir", ""],
      ["--state-dir"],
    ]) {
      let caught: unknown;
      try {
        parseOptions(args, {}, "/");
      } catch (error) {
        caught = error;
      }
      expect(caught, args.join(" ")).toBeInstanceOf(DemoError);
      expect((caught as DemoError).exitCode).toBe(2);
    }
  });
});

describe("userDirectory", () => {
  it("is INIT_CWD when a package manager set it, else the working directory", () => {
    expect(userDirectory({ INIT_CWD: "/where/the/user/was" }, "/pkg")).toBe("/where/the/user/was");
    expect(userDirectory({}, "/pkg")).toBe("/pkg");
    expect(userDirectory({ INIT_CWD: "" }, "/pkg")).toBe("/pkg");
  });
});
