import { InvalidArgumentError, UnknownKeyError } from "./errors.ts";
import { keyBytes, type KeyInput } from "./key-material.ts";
import { SubkeyDeriver } from "./subkey.ts";

/** A key and the uint32 id written into every envelope it seals. */
export interface KeyEntry {
  /** Integer in 0..2^32-1; unique within one crypter. */
  id: number;
  /** 16, 24 or 32 bytes, or a string (`hex:…`, `base64:…`, or its UTF-8 bytes; see {@link KeyInput}). */
  key: KeyInput;
}

/**
 * One primary key (seals) plus older decrypt-only keys, looked up by the key id in the
 * envelope header. Never tries keys in turn: a missing id is an {@link UnknownKeyError}.
 */
export class Keyring {
  readonly #keys = new Map<number, SubkeyDeriver>();
  readonly #primaryId: number;
  #destroyed = false;

  constructor(primary: KeyEntry, previous: readonly KeyEntry[] = []) {
    if (!Array.isArray(previous)) throw new InvalidArgumentError("previousKeys expected an array of { id, key }");
    for (const entry of [primary, ...previous]) {
      if (typeof entry !== "object" || entry === null) throw new InvalidArgumentError("key entry expected { id, key }");
      assertKeyId(entry.id);
      if (this.#keys.has(entry.id)) {
        throw new InvalidArgumentError(`duplicate key id ${entry.id}: every key in a keyring needs its own id`);
      }
      const what = entry === primary ? "aes key" : `aes key (previous key id ${entry.id})`;
      const bytes = keyBytes(entry.key, what);
      // Only the HKDF state is kept: the raw master key copy is wiped right away.
      this.#keys.set(entry.id, new SubkeyDeriver(bytes));
      bytes.fill(0);
    }
    this.#primaryId = primary.id;
  }

  get primaryId(): number {
    return this.#primaryId;
  }

  get ids(): number[] {
    return [...this.#keys.keys()];
  }

  primary(): SubkeyDeriver {
    return this.get(this.#primaryId);
  }

  /** @throws UnknownKeyError when no key has this id. */
  get(id: number): SubkeyDeriver {
    if (this.#destroyed) throw new InvalidArgumentError("crypter was destroyed: its keys are zeroed");
    const key = this.#keys.get(id);
    if (key === undefined) throw new UnknownKeyError(id, this.ids);
    return key;
  }

  /** Wipes every key's HKDF state; later use throws. */
  destroy(): void {
    for (const deriver of this.#keys.values()) deriver.destroy();
    this.#destroyed = true;
  }
}

export function assertKeyId(id: unknown): asserts id is number {
  if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 0xffff_ffff) {
    throw new InvalidArgumentError(`key id expected an integer in 0..4294967295, got ${String(id)}`);
  }
}
