// What the server-backed stores (@mk/store-postgres, @mk/store-nats) share beyond the format rules:
// option checks, the save prelude, the closing/in-flight bookkeeping and bounded waits.
// Errors are made by the backend's own factory, so each keeps its own error classes.
import type { Crypter } from "@mk/crypto";
import type { StateError } from "./errors.ts";
import { assertValidName } from "./names.ts";
import { checkMeta, type CheckedMeta } from "./options.ts";
import { encodeState } from "./encoding.ts";
import type { OpenedState } from "./sealed-state.ts";
import type { LoadedState, SaveMeta } from "./state-store.ts";

/** Makes a backend's own error (a StateError subclass) for a code these helpers raise. */
export type BackendErrorFactory = (
  code: "INVALID_ARGUMENT" | "STATE_TOO_LARGE" | "STATE_CLOSED",
  message: string,
  options?: { service?: string },
) => StateError;

/** `value` when a positive safe integer, `fallback` when undefined; otherwise an `INVALID_ARGUMENT` from `error`. */
export function positiveIntegerOption(
  value: unknown,
  what: string,
  fallback: number,
  error: BackendErrorFactory,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw error(
      "INVALID_ARGUMENT",
      `option ${what}: expected a positive integer, got ${typeof value === "number" ? value : typeof value}`,
    );
  }
  return value;
}

/** `crypter` when it has `encrypt()` and `decrypt()`; otherwise an `INVALID_ARGUMENT` from `error`. */
export function checkCrypterOption(crypter: unknown, error: BackendErrorFactory): Crypter {
  if (
    typeof crypter !== "object" ||
    crypter === null ||
    typeof (crypter as Partial<Crypter>).encrypt !== "function" ||
    typeof (crypter as Partial<Crypter>).decrypt !== "function"
  ) {
    throw error("INVALID_ARGUMENT", "option crypter: expected an object with encrypt() and decrypt() (a Crypter)");
  }
  return crypter as Crypter;
}

/**
 * The checks of a save before anything is sent: the name, `meta`, the encoding and the size of
 * the encoded state (over `maxBytes`: a `STATE_TOO_LARGE` from `error`).
 * @throws StateError `INVALID_NAME`, `INVALID_ARGUMENT`, `STATE_ENCODE_FAILED`, `STATE_TOO_LARGE`.
 */
export function prepareSave(
  name: string,
  state: unknown,
  meta: SaveMeta | undefined,
  limits: { maxBytes: number; maxDepth: number },
  error: BackendErrorFactory,
): { checked: CheckedMeta; stateJson: string } {
  assertValidName(name);
  const checked = checkMeta(meta, name);
  const stateJson = encodeState(state, limits.maxDepth, name);
  if (stateJson.length > limits.maxBytes && Buffer.byteLength(stateJson) > limits.maxBytes) {
    throw error(
      "STATE_TOO_LARGE",
      `state of "${name}" is too large: over the ${limits.maxBytes}-byte cap (option maxBytes)`,
      { service: name },
    );
  }
  return { checked, stateJson };
}

/** The `LoadedState` of an opened state with its generation and epoch (`version`/`needsRewrap` only when set). */
export function loadedState(opened: OpenedState, generation: number, epoch: number): LoadedState {
  const loaded: LoadedState = { state: opened.state, generation, epoch };
  if (opened.version !== undefined) loaded.version = opened.version;
  if (opened.needsRewrap) loaded.needsRewrap = true;
  return loaded;
}

/**
 * A store's operations in flight: `run` refuses new ones once `close` was called (with the
 * `STATE_CLOSED` error `closedError` makes), `close` waits for the started ones, then runs
 * `finish` once. Idempotent: every `close` returns the same promise.
 */
export class OperationTracker {
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #closedError: () => StateError;
  #closing: Promise<void> | undefined;

  constructor(closedError: () => StateError) {
    this.#closedError = closedError;
  }

  /** True once `close` was called. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  run<T>(operation: () => T | Promise<T>): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError());
    let promise: Promise<T>;
    try {
      promise = Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.#inFlight.add(promise);
    const forget = (): void => void this.#inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  close(finish: () => Promise<void> | void): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled(this.#inFlight);
      await finish();
    })();
    return this.#closing;
  }
}

/** The rejection of {@link withDeadline} (and of a wait a backend bounds itself) when time ran out. */
export class DeadlineError extends Error {}

/**
 * `promise`, or a {@link DeadlineError} after `ms`. A result that comes after the deadline is
 * handed to `onLate` (to release a late connection, say); a late rejection is dropped.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, onLate?: (value: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(new DeadlineError(`no answer within ${ms} ms, option timeoutMs`));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (timedOut) onLate?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!timedOut) reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
