import { AesGcmCrypter, type Crypter } from "@mk/crypto";
import { describe, expect, it } from "vitest";
import { encodeState } from "./encoding.ts";
import { StateError } from "./errors.ts";
import { openState, sealState } from "./sealed-state.ts";

const crypter = new AesGcmCrypter("0123456789abcdef0123456789abcdef");
const encoder = new TextEncoder();
const BIG = 1 << 20;

async function failure(promise: Promise<unknown>): Promise<StateError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StateError);
  return error as StateError;
}

describe("sealState / openState", () => {
  it("round-trips state and version", async () => {
    const sealed = await sealState(crypter, "echo", encodeState({ n: [1, "two"] }), "2.1", BIG);
    expect(await openState(crypter, "echo", sealed, BIG, 256, "test")).toEqual({
      state: { n: [1, "two"] },
      version: "2.1",
      needsRewrap: false,
    });
    const bare = await sealState(crypter, "echo", encodeState(null), undefined, BIG);
    expect(await openState(crypter, "echo", bare, BIG, 256, "test")).toMatchObject({ state: null, version: undefined });
  });

  it("binds the service name: bytes copied to another name do not open (STATE_DECRYPT_FAILED)", async () => {
    const sealed = await sealState(crypter, "echo", encodeState(1), undefined, BIG);
    const error = await failure(openState(crypter, "other", sealed, BIG, 256, 'table "t"'));
    expect(error.code).toBe("STATE_DECRYPT_FAILED");
    expect(error.message).toContain('state of "other" in table "t" cannot be opened');
  });

  it("any flipped byte is STATE_DECRYPT_FAILED, never garbage", async () => {
    const sealed = await sealState(crypter, "echo", encodeState({ a: 1 }), "1", BIG);
    for (const offset of [0, 10, sealed.length >> 1, sealed.length - 1]) {
      const changed = sealed.slice();
      changed[offset] = (changed[offset] ?? 0) ^ 0x01;
      expect((await failure(openState(crypter, "echo", changed, BIG, 256, "test"))).code).toBe("STATE_DECRYPT_FAILED");
    }
    expect((await failure(openState(crypter, "echo", new Uint8Array(0), BIG, 256, "test"))).code).toBe(
      "STATE_DECRYPT_FAILED",
    );
  });

  it("checks the document: name, format, version type, depth", async () => {
    const raw = async (text: string): Promise<Uint8Array> =>
      crypter.encrypt(encoder.encode(text), encoder.encode("echo"));
    const cases: [string, string][] = [
      ['{"mk":1,"name":"other","state":1}', "STATE_CORRUPT"],
      ['{"mk":2,"name":"echo","state":1}', "STATE_UNSUPPORTED_VERSION"],
      ['{"mk":0,"name":"echo","state":1}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo","version":3,"state":1}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo"}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo","state":[[[[1]]]]}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo","state":{"__proto__":{}}}', "STATE_CORRUPT"],
      ["[1]", "STATE_CORRUPT"],
      ["not json", "STATE_CORRUPT"],
    ];
    for (const [text, code] of cases) {
      expect((await failure(openState(crypter, "echo", await raw(text), BIG, 3, "test"))).code, text).toBe(code);
    }
  });

  it("caps the sealed size on both sides (STATE_TOO_LARGE)", async () => {
    expect((await failure(sealState(crypter, "echo", encodeState("x".repeat(500)), undefined, 100))).code).toBe(
      "STATE_TOO_LARGE",
    );
    const sealed = await sealState(crypter, "echo", encodeState("x".repeat(500)), undefined, BIG);
    expect((await failure(openState(crypter, "echo", sealed, 100, 256, "test"))).code).toBe("STATE_TOO_LARGE");
  });

  it("a crypter that throws is STATE_ENCRYPT_FAILED with the cause", async () => {
    const cause = new Error("no key");
    const broken: Crypter = {
      encrypt: () => Promise.reject(cause),
      decrypt: () => Promise.reject(cause),
    };
    const error = await failure(sealState(broken, "echo", "1", undefined, BIG));
    expect(error).toMatchObject({ code: "STATE_ENCRYPT_FAILED", service: "echo", cause });
  });

  it("reports needsRewrap from the crypter", async () => {
    const flagging: Crypter = {
      encrypt: (p, ad) => crypter.encrypt(p, ad),
      decrypt: (c, ad) => crypter.decrypt(c, ad),
      needsRewrap: () => true,
    };
    const sealed = await sealState(flagging, "echo", "1", undefined, BIG);
    expect((await openState(flagging, "echo", sealed, BIG, 256, "test")).needsRewrap).toBe(true);
  });

  // Regression: a crypter (user code) that threw an unprintable value (a null-prototype
  // object, a Proxy whose traps throw) made sealState/openState reject with a raw
  // TypeError from String(), or the trap's own error, instead of a StateError.
  it("a crypter throwing unprintable values still gives typed errors", async () => {
    const trap = (): never => {
      throw new Error("trap");
    };
    for (const thrown of [
      Object.create(null) as object,
      new Proxy({}, { get: trap, has: trap, getPrototypeOf: trap }),
    ]) {
      const hostile: Crypter = { encrypt: () => Promise.reject(thrown), decrypt: () => Promise.reject(thrown) };
      expect((await failure(sealState(hostile, "echo", "1", undefined, BIG))).code).toBe("STATE_ENCRYPT_FAILED");
      const sealed = await sealState(crypter, "echo", "1", undefined, BIG);
      expect((await failure(openState(hostile, "echo", sealed, BIG, 256, "test"))).code).toBe("STATE_DECRYPT_FAILED");
    }
  });
});
