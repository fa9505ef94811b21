// The README's usage example, kept runnable: if this file changes, update the README.
import { describe, expect, it } from "vitest";
import { AesGcmCrypter, CryptoError } from "@mk/crypto";

describe("README usage example", () => {
  it("seals, opens, and reports AUTH_FAILED for other associated data", async () => {
    const crypter = new AesGcmCrypter("1234567890123456"); // 16, 24 or 32 bytes (see "Key strings")
    const name = new TextEncoder().encode("echo"); // associated data: authenticated, not encrypted

    const sealed = await crypter.encrypt(new TextEncoder().encode('{"count":3}'), name);
    const opened = await crypter.decrypt(sealed, name);
    expect(new TextDecoder().decode(opened)).toBe('{"count":3}');

    let code: string | undefined;
    try {
      await crypter.decrypt(sealed, new TextEncoder().encode("other-service"));
    } catch (error) {
      if (error instanceof CryptoError) code = error.code;
    }
    expect(code).toBe("AUTH_FAILED");
  });
});
