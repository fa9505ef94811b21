import { afterEach, describe, expect, it, vi } from "vitest";
import { AesGcmCrypter } from "./aes-gcm-crypter.ts";
import { BackendChooser, DEFAULT_WEBCRYPTO_THRESHOLD, hasWebCrypto } from "./cipher-backend.ts";
import { LegacyAesGcmCrypter } from "./legacy-aes-gcm-crypter.ts";

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("backend choice", () => {
  it('"auto" uses pure JS below the threshold and WebCrypto from it up', () => {
    const chooser = new BackendChooser();
    expect(chooser.pick(0)).toBe("js");
    expect(chooser.pick(DEFAULT_WEBCRYPTO_THRESHOLD - 1)).toBe("js");
    expect(chooser.pick(DEFAULT_WEBCRYPTO_THRESHOLD)).toBe("webcrypto");
    expect(new BackendChooser({ webCryptoThreshold: 0 }).pick(0)).toBe("webcrypto");
    expect(new BackendChooser({ backend: "js" }).pick(1 << 30)).toBe("js");
    expect(new BackendChooser({ backend: "webcrypto" }).pick(0)).toBe("webcrypto");
  });

  it("falls back to pure JS where crypto.subtle is missing (e.g. insecure browser contexts), and still works", async () => {
    const real = globalThis.crypto;
    vi.stubGlobal("crypto", {
      getRandomValues: <T extends ArrayBufferView>(array: T): T => real.getRandomValues(array as never),
    });
    expect(hasWebCrypto()).toBe(false);
    expect(new BackendChooser().pick(1 << 20)).toBe("js");
    expect(() => new AesGcmCrypter("1234567890123456", { backend: "webcrypto" })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    const crypter = new AesGcmCrypter("1234567890123456");
    const big = new Uint8Array(100_000).fill(9);
    const sealed = await crypter.encrypt(big);
    const legacy = new LegacyAesGcmCrypter("1234567890123456");
    const legacySealed = await legacy.encrypt(big);
    vi.unstubAllGlobals();
    expect(hasWebCrypto()).toBe(true);
    // Opened through WebCrypto now: the JS-only path wrote the same format.
    expect(
      Buffer.from(await new AesGcmCrypter("1234567890123456", { backend: "webcrypto" }).decrypt(sealed)).equals(big),
    ).toBe(true);
    expect(
      Buffer.from(
        await new LegacyAesGcmCrypter("1234567890123456", { backend: "webcrypto" }).decrypt(legacySealed),
      ).equals(big),
    ).toBe(true);
  });
});
