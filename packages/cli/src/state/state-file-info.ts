import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { hasEnvelopeMagic, type AesGcmCrypter } from "@mk/crypto";
import type { StoreLocation } from "../runtime/store-url.ts";

/** What the outside of a state file says, before it is opened. */
export interface SealedInfo {
  /** `mk-envelope-v1`, `legacy` (the reference Go format) or `unknown`. */
  format: "mk-envelope-v1" | "legacy" | "unknown";
  /** The key id in the envelope header (not yet authenticated). */
  keyId?: number;
  bytes: number;
  modified: string;
}

const HEADER_BYTES = 128;

/** Reads the header of `<dir>/<name>.state` (never follows a link). `undefined` when there is none. */
export async function sealedInfo(
  location: StoreLocation,
  name: string,
  crypter: AesGcmCrypter,
): Promise<SealedInfo | undefined> {
  // Other backends keep no file to look at: show and ls report what load() gives.
  if (location.kind !== "file") return undefined;
  let handle;
  try {
    handle = await open(
      join(location.dir, `${name}.state`),
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    );
  } catch {
    // Gone since it was listed, or not a file: the load that follows reports it properly.
    return undefined;
  }
  try {
    const stats = await handle.stat();
    const head = new Uint8Array(Math.min(HEADER_BYTES, stats.size));
    await handle.read(head, 0, head.length, 0);
    const info: SealedInfo = { format: "unknown", bytes: stats.size, modified: stats.mtime.toISOString() };
    if (hasEnvelopeMagic(head)) {
      info.format = "mk-envelope-v1";
      try {
        info.keyId = crypter.keyIdOf(head);
      } catch {
        // A header too damaged to name a key: verify and show say why when they open it.
      }
    } else if (stats.size >= 28) {
      info.format = "legacy";
    }
    return info;
  } finally {
    await handle.close();
  }
}
