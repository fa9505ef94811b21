// NatsKvStateStore: one sealed KV entry per service; every write conditional on the last revision seen.
import { describeThrown } from "@mk/common";
import type { Crypter } from "@mk/crypto";
import { jetstream } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  STATE_NAME_PATTERN,
  StateConflictError,
  StateFencedError,
  type LoadedState,
  type SaveMeta,
  type StateStore,
} from "@mk/state";
import {
  assertValidName,
  type BackendErrorFactory,
  checkCrypterOption,
  type CheckedMeta,
  DeadlineError,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_DEPTH,
  KeyedQueue,
  loadedState,
  openState,
  OperationTracker,
  positiveIntegerOption,
  prepareSave,
  sealState,
  withDeadline,
} from "@mk/state/backend";
import { NatsStoreError, NatsUnavailableError } from "./errors.ts";
import { decodeValue, encodeValue, HEADER_LENGTH, keyOf, nameOf } from "./value-header.ts";

/** Options of {@link NatsKvStateStore}: give either `servers` or `connection`. */
export interface NatsKvStateStoreOptions {
  /** `nats://host:port` (or several); the store opens (and on `close()` closes) its own connection. */
  servers?: string | string[];
  /** A connection you own (from `@nats-io/transport-node`); `close()` leaves it open. */
  connection?: NatsConnection;
  /** Seals every state; the service name is bound as associated data. */
  crypter: Crypter;
  /**
   * KV bucket (`[A-Za-z0-9_-]+`), created on first use with file storage.
   * @default "mk_state"
   */
  bucket?: string;
  /**
   * Values kept per key by a bucket this store creates (1 = the latest only).
   * @default 1
   */
  history?: number;
  /**
   * Replicas of a bucket this store creates (a clustered JetStream).
   * @default 1
   */
  replicas?: number;
  /**
   * Longest wait for the server per operation. Past it the call rejects with
   * {@link NatsUnavailableError}: an outage never hangs a save.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Largest sealed state accepted by `save` and `load` (the server's `max_payload`, 1 MiB by
   * default, caps it further).
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * Deepest nesting of objects/arrays accepted.
   * @default 256
   */
  maxDepth?: number;
}

/** What the store last saw under a key: the subject's last revision (a delete marker too), the stored generation and epoch. */
interface Mark {
  revision: number;
  generation: number;
  epoch: number;
}

const BUCKET = /^[A-Za-z0-9_-]{1,64}$/;
const UNAVAILABLE_NAMES = new Set([
  "TimeoutError",
  "NoResponders",
  "NoRespondersError",
  "ClosedConnectionError",
  "ConnectionError",
  "DrainingConnectionError",
  "RequestError",
]);
const WRONG_LAST_SEQUENCE = new Set([10071, 10164]);

function apiCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

function isUnavailable(error: unknown): boolean {
  if (error instanceof DeadlineError) return true;
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name === "string" && UNAVAILABLE_NAMES.has(name)) return true;
  // JetStream answers 503 while it starts after a restart.
  return /timeout|no responders|disconnect|connection closed|CONNECTION_REFUSED|ECONNREFUSED|jetstream not enabled/i.test(
    describeThrown(error),
  );
}

const storeError: BackendErrorFactory = (code, message, options) => new NatsStoreError(code, message, options);

function positiveInteger(value: unknown, what: string, fallback: number): number {
  return positiveIntegerOption(value, what, fallback, storeError);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A {@link StateStore} on NATS JetStream KV: one entry per service in a bucket
 * (file storage) created on first use.
 *
 * The generation is the entry's KV revision. Every write is conditional on the
 * last revision the store saw for the key (`ExpectedLastSubjectSequence`), so
 * compare-and-set is the server's own check and fencing is checked against the
 * epoch kept in the very value the write replaces: two writers can never both
 * pass. The store keeps the last revision per key, so a save is one round trip
 * when nobody else wrote in between. States are sealed with the crypter, the
 * service name bound as associated data.
 *
 * @example
 * const store = new NatsKvStateStore({ servers: "nats://127.0.0.1:4222", crypter: new AesGcmCrypter(key) });
 * await store.save("echo", { count: 1 }, { ifGeneration: 0 });
 * const loaded = await store.load("echo"); // { state: { count: 1 }, generation: <revision>, epoch: 0 }
 * await store.close();
 */
export class NatsKvStateStore implements StateStore {
  readonly #servers: string[] | undefined;
  readonly #given: NatsConnection | undefined;
  readonly #crypter: Crypter;
  readonly #bucket: string;
  readonly #history: number;
  readonly #replicas: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #maxDepth: number;
  readonly #where: string;
  readonly #queue = new KeyedQueue();
  readonly #operations = new OperationTracker(
    () => new NatsStoreError("STATE_CLOSED", `the store on ${this.#where} is closed`),
  );
  readonly #marks = new Map<string, Mark>();
  #connection: Promise<NatsConnection> | undefined;
  /** False between a "disconnect" and the next "reconnect" of the connection. */
  #online = true;
  #onlineWaiters: (() => void)[] = [];
  #watching: { stop(): void } | undefined;
  #kv: Promise<KV> | undefined;

  /** @throws NatsStoreError `INVALID_ARGUMENT` for a bad option. */
  constructor(options: NatsKvStateStoreOptions) {
    if (typeof options !== "object" || options === null) {
      throw new NatsStoreError("INVALID_ARGUMENT", `expected an options object, got ${String(options)}`);
    }
    const { servers, connection } = options;
    const crypter = checkCrypterOption(options.crypter, storeError);
    if ((servers === undefined) === (connection === undefined)) {
      throw new NatsStoreError("INVALID_ARGUMENT", "expected exactly one of the options servers and connection");
    }
    if (servers !== undefined) {
      const list = typeof servers === "string" ? [servers] : servers;
      if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === "string" && s !== "")) {
        throw new NatsStoreError(
          "INVALID_ARGUMENT",
          "option servers: expected a URL string or a non-empty array of them",
        );
      }
      this.#servers = [...list];
    }
    if (connection !== undefined) {
      if (typeof connection !== "object" || connection === null || typeof connection.request !== "function") {
        throw new NatsStoreError("INVALID_ARGUMENT", "option connection: expected a NatsConnection");
      }
      this.#given = connection;
    }
    const bucket = options.bucket ?? "mk_state";
    if (typeof bucket !== "string" || !BUCKET.test(bucket)) {
      throw new NatsStoreError(
        "INVALID_ARGUMENT",
        `option bucket: expected 1-64 of A-Z a-z 0-9 _ -, got ${typeof bucket === "string" ? JSON.stringify(bucket) : typeof bucket}`,
      );
    }
    this.#bucket = bucket;
    this.#where = `NATS KV bucket "${bucket}"`;
    this.#history = positiveInteger(options.history, "history", 1);
    this.#replicas = positiveInteger(options.replicas, "replicas", 1);
    this.#timeoutMs = positiveInteger(options.timeoutMs, "timeoutMs", 10_000);
    this.#maxBytes = positiveInteger(options.maxBytes, "maxBytes", DEFAULT_MAX_BYTES);
    this.#maxDepth = positiveInteger(options.maxDepth, "maxDepth", DEFAULT_MAX_DEPTH);
    this.#crypter = crypter;
  }

  /**
   * Stores `state` for `name` with one conditional KV write. `meta.epoch` fences
   * (checked first), `meta.ifGeneration` is a compare-and-set on the KV revision
   * (`0`: only if nothing is stored).
   * @throws StateError `INVALID_NAME`, `INVALID_ARGUMENT`, `STATE_ENCODE_FAILED`, `STATE_TOO_LARGE`,
   * `STATE_ENCRYPT_FAILED`, `STATE_FENCED`, `STATE_CONFLICT`, `STATE_CLOSED`, or `STATE_IO`
   * ({@link NatsUnavailableError} within `timeoutMs` while the server is away: the outcome is then unknown).
   */
  save(name: string, state: unknown, meta?: SaveMeta): Promise<void> {
    return this.#operations.run(() => {
      const limits = { maxBytes: this.#maxBytes, maxDepth: this.#maxDepth };
      const { checked, stateJson } = prepareSave(name, state, meta, limits, storeError);
      return this.#queue.run(name, async () => {
        const sealed = await sealState(this.#crypter, name, stateJson, checked.version, this.#maxBytes);
        const kv = await this.#bucketReady(name);
        await this.#write(kv, name, checked, sealed);
      });
    });
  }

  async #write(kv: KV, name: string, meta: CheckedMeta, sealed: Uint8Array): Promise<void> {
    // The connection is up here (the bucket is open); its INFO says the server's message cap.
    const limit = (this.#given ?? (await this.#connection))?.info?.max_payload;
    if (limit !== undefined && sealed.length + HEADER_LENGTH > limit - 512) {
      throw new NatsStoreError(
        "STATE_TOO_LARGE",
        `state of "${name}" is too large for NATS: ${sealed.length} sealed bytes, the server's max_payload is ${limit}`,
        { service: name },
      );
    }
    // Each lost race means another writer stored in between; under steady contention a few
    // tries with a growing, jittered pause let this one through (bounded: 50 tries).
    for (let attempt = 0; attempt < 50; attempt++) {
      if (attempt >= 2) await pause(Math.random() * Math.min(100, 2 ** attempt));
      const cached = this.#marks.get(name);
      const mark = cached ?? (await this.#look(kv, name));
      // Fencing first (a stale owner hears it is stale), then compare-and-set. A cached mark may be
      // out of date: a refusal is only given on what the server holds now.
      const fenced = meta.epoch !== undefined && meta.epoch < mark.epoch;
      const conflict = meta.ifGeneration !== undefined && meta.ifGeneration !== mark.generation;
      if (fenced || conflict) {
        if (cached !== undefined) {
          this.#marks.delete(name);
          continue;
        }
        if (fenced) throw new StateFencedError(name, meta.epoch ?? 0, mark.epoch);
        throw new StateConflictError(name, meta.ifGeneration ?? 0, mark.generation);
      }
      const epoch = Math.max(mark.epoch, meta.epoch ?? 0);
      let revision: number;
      try {
        revision = await this.#call(name, "saving", () =>
          kv.put(keyOf(name), encodeValue(epoch, sealed), { previousSeq: mark.revision, timeout: this.#timeoutMs }),
        );
      } catch (error) {
        this.#marks.delete(name);
        // Someone wrote (or deleted) since the mark: look again and re-check.
        if (error instanceof NatsStoreError && WRONG_LAST_SEQUENCE.has(apiCodeOf(error.cause) ?? 0)) continue;
        throw error;
      }
      this.#marks.set(name, { revision, generation: revision, epoch });
      return;
    }
    throw new NatsUnavailableError(
      `save of "${name}" to ${this.#where} did not settle: the entry kept changing under it`,
      {
        service: name,
      },
    );
  }

  /** Reads the key's last revision and epoch (one KV get) and remembers them. */
  async #look(kv: KV, name: string): Promise<Mark> {
    const entry = await this.#call(name, "looking up", () => kv.get(keyOf(name)));
    if (entry === null || entry.operation !== "PUT") {
      const mark = { revision: entry?.revision ?? 0, generation: 0, epoch: 0 };
      this.#marks.set(name, mark);
      return mark;
    }
    const { epoch } = decodeValue(entry.value, name, this.#where);
    const mark = { revision: entry.revision, generation: entry.revision, epoch };
    this.#marks.set(name, mark);
    return mark;
  }

  /**
   * @returns `undefined` when nothing is stored for `name`; otherwise the state with its
   * `generation` (the KV revision, what `ifGeneration` compares with) and `epoch`.
   * @throws StateError `INVALID_NAME`, `STATE_TOO_LARGE`, `STATE_DECRYPT_FAILED`, `STATE_CORRUPT`,
   * `STATE_UNSUPPORTED_VERSION`, `STATE_CLOSED` or `STATE_IO`.
   */
  load(name: string): Promise<LoadedState | undefined> {
    return this.#operations.run(() => {
      assertValidName(name);
      return this.#queue.run(name, async () => {
        const kv = await this.#bucketReady(name);
        const entry = await this.#call(name, "loading", () => kv.get(keyOf(name)));
        if (entry === null || entry.operation !== "PUT") {
          this.#marks.set(name, { revision: entry?.revision ?? 0, generation: 0, epoch: 0 });
          return undefined;
        }
        const { epoch, sealed } = decodeValue(entry.value, name, this.#where);
        this.#marks.set(name, { revision: entry.revision, generation: entry.revision, epoch });
        const opened = await openState(this.#crypter, name, sealed, this.#maxBytes, this.#maxDepth, this.#where);
        return loadedState(opened, entry.revision, epoch);
      });
    });
  }

  /** @throws StateError `INVALID_NAME`, `STATE_CLOSED` or `STATE_IO`. */
  exists(name: string): Promise<boolean> {
    return this.#operations.run(() => {
      assertValidName(name);
      return this.#queue.run(name, async () => {
        const kv = await this.#bucketReady(name);
        const entry = await this.#call(name, "looking up", () => kv.get(keyOf(name)));
        return entry !== null && entry.operation === "PUT";
      });
    });
  }

  /** Removes the entry of `name` (a KV delete marker: its generation and epoch go too). No-op when there is none. */
  delete(name: string): Promise<void> {
    return this.#operations.run(() => {
      assertValidName(name);
      return this.#queue.run(name, async () => {
        const kv = await this.#bucketReady(name);
        this.#marks.delete(name);
        const entry = await this.#call(name, "deleting", () => kv.get(keyOf(name)));
        if (entry === null || entry.operation !== "PUT") return;
        await this.#call(name, "deleting", () => kv.delete(keyOf(name)));
      });
    });
  }

  /** Names with a stored state, sorted. */
  list(): Promise<string[]> {
    return this.#operations.run(async () => {
      const kv = await this.#bucketReady(undefined);
      const names = await this.#call(undefined, "listing", async () => {
        const found: string[] = [];
        for await (const key of await kv.keys()) found.push(nameOf(key));
        return found;
      });
      // JavaScript's default order (UTF-16 code units), like the other stores; names are ASCII.
      return names.filter((name) => STATE_NAME_PATTERN.test(name)).sort();
    });
  }

  /** Waits for the operations already started, then closes the store's own connection (never one passed in). Idempotent. */
  close(): Promise<void> {
    return this.#operations.close(async () => {
      this.#watching?.stop();
      this.#wake();
      if (this.#given === undefined && this.#connection !== undefined) {
        const connection = await this.#connection.catch(() => undefined);
        await connection?.close();
      }
    });
  }

  #connect(service: string | undefined): Promise<NatsConnection> {
    if (this.#given !== undefined) {
      this.#watch(this.#given);
      return Promise.resolve(this.#given);
    }
    this.#connection ??= connect({
      servers: this.#servers ?? [],
      name: "mk-state-store",
      timeout: this.#timeoutMs,
      // Reconnect for as long as the store lives: a server restart is an outage, not the end.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // The client would capture a stack trace on every request for its own errors (about
      // 60 µs a request here); every failure the store reports is typed and names the step.
      noAsyncTraces: true,
    });
    const pending = this.#connection;
    pending.then(
      (connection) => this.#watch(connection),
      () => {
        if (this.#connection === pending) this.#connection = undefined;
      },
    );
    return this.#call(service, "connecting", () => pending);
  }

  /**
   * Follows the connection's status. A request sent while the client is reconnecting can be
   * lost with the old socket and only time out; waiting for "reconnect" first lets the call
   * go out on the new connection, so the first save after a server restart succeeds.
   */
  #watch(connection: NatsConnection): void {
    if (this.#watching !== undefined) return;
    const events = connection.status()[Symbol.asyncIterator]();
    this.#watching = { stop: () => void events.return?.() };
    void (async () => {
      for (let next = await events.next(); next.done !== true; next = await events.next()) {
        if (next.value.type === "disconnect") this.#online = false;
        else if (next.value.type === "reconnect") {
          this.#online = true;
          this.#wake();
        }
      }
    })();
  }

  #wake(): void {
    const waiters = this.#onlineWaiters;
    this.#onlineWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once the connection is up (at once when it is), or after `ms`. */
  #whenOnline(ms: number): Promise<void> {
    if (this.#online || this.#operations.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#onlineWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #bucketReady(service: string | undefined): Promise<KV> {
    if (this.#kv !== undefined) return this.#kv;
    const pending = (async () => {
      const connection = await this.#connect(service);
      const kvm = new Kvm(jetstream(connection, { timeout: this.#timeoutMs }));
      return this.#call(service, "opening the bucket", () =>
        kvm.create(this.#bucket, { history: this.#history, replicas: this.#replicas, storage: "file" }),
      );
    })();
    this.#kv = pending;
    // After a failure (an outage at first use) the next operation tries again.
    pending.catch(() => {
      if (this.#kv === pending) this.#kv = undefined;
    });
    return pending;
  }

  /** One server call, bounded by `timeoutMs`, with driver errors made typed. */
  async #call<T>(service: string | undefined, step: string, call: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      // Online (the usual case): no wait at all, not even a resolved promise's microtask.
      if (!this.#online) {
        await this.#whenOnline(this.#timeoutMs);
        if (!this.#online) throw new DeadlineError(`not connected within ${this.#timeoutMs} ms, option timeoutMs`);
      }
      return await withDeadline(call(), Math.max(1, this.#timeoutMs - (Date.now() - started)));
    } catch (cause) {
      if (cause instanceof NatsStoreError) throw cause;
      const about = service === undefined ? "" : ` "${service}"`;
      const options = { ...(service === undefined ? {} : { service }), cause };
      if (isUnavailable(cause)) {
        throw new NatsUnavailableError(
          `${step}${about}: NATS did not answer for ${this.#where} (${describeThrown(cause)}); the outcome of a save is unknown`,
          options,
        );
      }
      const code = apiCodeOf(cause);
      throw new NatsStoreError(
        "STATE_IO",
        `${step}${about}: NATS refused the request on ${this.#where}: ${code === undefined ? "" : `${code} `}${describeThrown(cause)}`,
        options,
      );
    }
  }
}
