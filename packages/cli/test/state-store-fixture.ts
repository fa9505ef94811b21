import { join } from "node:path";
import { AesGcmCrypter } from "@mk/crypto";
import { FileStateStore } from "@mk/state";
import { KEY } from "./mk-process.ts";

/** Writes states straight through a FileStateStore (as a kernel would have), sealed with `key` under `keyId`. */
export async function seedStates(
  dir: string,
  states: Record<string, { state: unknown; version?: string }>,
  key: string = KEY,
  keyId = 0,
): Promise<void> {
  const store = new FileStateStore(join(dir, "state"), new AesGcmCrypter(key, { keyId }));
  try {
    for (const [name, { state, version }] of Object.entries(states)) {
      await store.save(name, state, version === undefined ? {} : { version });
    }
  } finally {
    await store.close();
  }
}

/** Loads every state with a keyring; throws naming the first that does not load. */
export async function loadAll(
  dir: string,
  primary: { key: string; id: number },
  previous: { key: string; id: number }[] = [],
): Promise<Record<string, unknown>> {
  const store = new FileStateStore(
    join(dir, "state"),
    new AesGcmCrypter(primary.key, { keyId: primary.id, previousKeys: previous }),
  );
  try {
    const out: Record<string, unknown> = {};
    for (const name of await store.list()) out[name] = (await store.load(name))?.state;
    return out;
  } finally {
    await store.close();
  }
}
