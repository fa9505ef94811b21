// PostgresStateStore: one sealed row per service; CAS and fencing as conditions of one statement; bounded waits.
import { describeThrown } from "@mk/common";
import type { Crypter } from "@mk/crypto";
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
import pg from "pg";
import { PostgresStoreError, PostgresUnavailableError } from "./errors.ts";
import { statementsFor, type Statement, type Statements } from "./statements.ts";
import { DEFAULT_TABLE, quoteTableName } from "./table-name.ts";

/** Options of {@link PostgresStateStore}: give either `connectionString` or `pool`. */
export interface PostgresStateStoreOptions {
  /** `postgres://user@host:port/db`; the store makes (and on `close()` ends) its own pool. */
  connectionString?: string;
  /** A `pg.Pool` you own: the store borrows clients and never ends it. Give it an `error` listener. */
  pool?: pg.Pool;
  /** Seals every state; the service name is bound as associated data. */
  crypter: Crypter;
  /**
   * Table (`name` or `schema.name`, lower-case identifiers), created on first use.
   * @default "mk_state"
   */
  table?: string;
  /**
   * Longest wait for the server per operation (getting a connection, then the statement).
   * Past it the call rejects with {@link PostgresUnavailableError}: an outage never hangs a save.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Connections in the store's own pool (ignored with `pool`).
   * @default 4
   */
  poolSize?: number;
  /**
   * Largest sealed state accepted by `save` and `load`.
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * Deepest nesting of objects/arrays accepted.
   * @default 256
   */
  maxDepth?: number;
}

interface MarkRow {
  generation: string;
  epoch: string;
}

interface StateRow extends MarkRow {
  version: string | null;
  sealed: Buffer;
}

/** SQLSTATE classes and errno codes that mean "the server is not there (yet)", not "the statement is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-3]|53300)/;
const UNAVAILABLE_ERRNO = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND"]);

function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function isUnavailable(error: unknown): boolean {
  const code = sqlStateOf(error);
  if (code !== undefined) return UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code);
  // pg reports a dropped socket as a plain Error without a code.
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
    describeThrown(error),
  );
}

const storeError: BackendErrorFactory = (code, message, options) => new PostgresStoreError(code, message, options);

function positiveInteger(value: unknown, what: string, fallback: number): number {
  return positiveIntegerOption(value, what, fallback, storeError);
}

/** Connections given an "error" listener already (one per connection, however many stores share a pool). */
const guarded = new WeakSet<pg.PoolClient>();

/**
 * A {@link StateStore} on PostgreSQL: one row per service (`name`, `generation`,
 * `epoch`, `version`, `sealed`, `updated_at`) in a table created on first use.
 *
 * Each save is one statement: compare-and-set (`meta.ifGeneration`) and fencing
 * (`meta.epoch`) are conditions of that statement, so two writers can never both
 * pass a check and then both write. States are sealed with the crypter, the service
 * name bound as associated data. Operations on one name run in call order.
 *
 * @example
 * const store = new PostgresStateStore({ connectionString: process.env.DATABASE_URL, crypter: new AesGcmCrypter(key) });
 * await store.save("echo", { count: 1 }, { ifGeneration: 0 });
 * const loaded = await store.load("echo"); // { state: { count: 1 }, generation, epoch: 0 }
 * await store.close();
 */
export class PostgresStateStore implements StateStore {
  readonly #pool: pg.Pool;
  readonly #ownPool: boolean;
  readonly #crypter: Crypter;
  readonly #table: string;
  readonly #sql: Statements;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #maxDepth: number;
  readonly #queue = new KeyedQueue();
  readonly #operations = new OperationTracker(
    () => new PostgresStoreError("STATE_CLOSED", `the store on ${this.#table} is closed`),
  );
  #tableReady: Promise<void> | undefined;
  /** Set once the table is known to exist: operations then skip the wait on #tableReady. */
  #tableOk = false;

  /** @throws PostgresStoreError `INVALID_ARGUMENT` for a bad option. */
  constructor(options: PostgresStateStoreOptions) {
    if (typeof options !== "object" || options === null) {
      throw new PostgresStoreError("INVALID_ARGUMENT", `expected an options object, got ${String(options)}`);
    }
    const { connectionString, pool } = options;
    const crypter = checkCrypterOption(options.crypter, storeError);
    if ((connectionString === undefined) === (pool === undefined)) {
      throw new PostgresStoreError("INVALID_ARGUMENT", "expected exactly one of the options connectionString and pool");
    }
    this.#table = quoteTableName(options.table ?? DEFAULT_TABLE);
    this.#sql = statementsFor(this.#table);
    this.#timeoutMs = positiveInteger(options.timeoutMs, "timeoutMs", 10_000);
    this.#maxBytes = positiveInteger(options.maxBytes, "maxBytes", DEFAULT_MAX_BYTES);
    this.#maxDepth = positiveInteger(options.maxDepth, "maxDepth", DEFAULT_MAX_DEPTH);
    const poolSize = positiveInteger(options.poolSize, "poolSize", 4);
    this.#crypter = crypter;
    if (pool !== undefined) {
      if (typeof pool !== "object" || pool === null || typeof (pool as { connect?: unknown }).connect !== "function") {
        throw new PostgresStoreError("INVALID_ARGUMENT", "option pool: expected a pg.Pool");
      }
      this.#pool = pool;
      this.#ownPool = false;
    } else {
      if (typeof connectionString !== "string" || connectionString === "") {
        throw new PostgresStoreError(
          "INVALID_ARGUMENT",
          `option connectionString: expected a non-empty string, got ${typeof connectionString}`,
        );
      }
      this.#pool = new pg.Pool({
        connectionString,
        max: poolSize,
        connectionTimeoutMillis: this.#timeoutMs,
        keepAlive: true,
        allowExitOnIdle: true,
      });
      // An idle connection dropped by a server restart: the pool discards it and the next
      // operation connects afresh. Without a listener the error would crash the process.
      this.#pool.on("error", () => {});
      this.#ownPool = true;
    }
  }

  /**
   * Stores `state` for `name` in one statement. `meta.epoch` fences (checked first),
   * `meta.ifGeneration` is a compare-and-set (`0`: only if nothing is stored).
   * @throws StateError `INVALID_NAME`, `INVALID_ARGUMENT`, `STATE_ENCODE_FAILED`, `STATE_TOO_LARGE`,
   * `STATE_ENCRYPT_FAILED`, `STATE_FENCED`, `STATE_CONFLICT`, `STATE_CLOSED`, or `STATE_IO`
   * ({@link PostgresUnavailableError} within `timeoutMs` when the server is down: the outcome is then unknown).
   */
  save(name: string, state: unknown, meta?: SaveMeta): Promise<void> {
    return this.#operations.run(() => {
      const limits = { maxBytes: this.#maxBytes, maxDepth: this.#maxDepth };
      const { checked, stateJson } = prepareSave(name, state, meta, limits, storeError);
      return this.#queue.run(name, async () => {
        const sealed = await sealState(this.#crypter, name, stateJson, checked.version, this.#maxBytes);
        if (!this.#tableOk) await this.#ensureTable(name);
        await this.#write(name, checked, sealed);
      });
    });
  }

  async #write(name: string, meta: CheckedMeta, sealed: Uint8Array): Promise<void> {
    const values: unknown[] = [name, Date.now(), meta.epoch ?? null, meta.version ?? null, sealed];
    let statement = this.#sql.upsert;
    if (meta.ifGeneration === 0) statement = this.#sql.insertIfAbsent;
    else if (meta.ifGeneration !== undefined) {
      statement = this.#sql.updateIfGeneration;
      values.push(meta.ifGeneration);
    }
    // A condition failed, or the row changed between the write and the look at why: a few tries.
    for (let attempt = 0; attempt < 5; attempt++) {
      const written = await this.#run(name, "saving", statement, values);
      if (written.rowCount > 0) return;
      const [stored] = await this.#query<MarkRow>(name, "saving", this.#sql.mark, [name]);
      const storedEpoch = stored === undefined ? 0 : Number(stored.epoch);
      const storedGeneration = stored === undefined ? 0 : Number(stored.generation);
      if (meta.epoch !== undefined && meta.epoch < storedEpoch) {
        throw new StateFencedError(name, meta.epoch, storedEpoch);
      }
      if (meta.ifGeneration !== undefined && meta.ifGeneration !== storedGeneration) {
        throw new StateConflictError(name, meta.ifGeneration, storedGeneration);
      }
      values[1] = Date.now();
    }
    throw new PostgresUnavailableError(
      `save of "${name}" to ${this.#table} did not settle: the row kept changing under it`,
      { service: name },
    );
  }

  /**
   * @returns `undefined` when no row exists for `name`; otherwise the state with its
   * `generation` (what `ifGeneration` compares with) and `epoch`.
   * @throws StateError `INVALID_NAME`, `STATE_TOO_LARGE`, `STATE_DECRYPT_FAILED`, `STATE_CORRUPT`,
   * `STATE_UNSUPPORTED_VERSION`, `STATE_CLOSED` or `STATE_IO`.
   */
  load(name: string): Promise<LoadedState | undefined> {
    return this.#operations.run(() => {
      assertValidName(name);
      return this.#queue.run(name, async () => {
        if (!this.#tableOk) await this.#ensureTable(name);
        const [row] = await this.#query<StateRow>(name, "loading", this.#sql.select, [name]);
        if (row === undefined) return undefined;
        const where = `PostgreSQL table ${this.#table}`;
        const opened = await openState(this.#crypter, name, row.sealed, this.#maxBytes, this.#maxDepth, where);
        if ((row.version ?? undefined) !== opened.version) {
          throw new PostgresStoreError(
            "STATE_CORRUPT",
            `state of "${name}" in ${where} is corrupt: the version column says ${JSON.stringify(row.version)}, the sealed document ${JSON.stringify(opened.version ?? null)}`,
            { service: name },
          );
        }
        return loadedState(opened, Number(row.generation), Number(row.epoch));
      });
    });
  }

  /** @throws StateError `INVALID_NAME`, `STATE_CLOSED` or `STATE_IO`. */
  exists(name: string): Promise<boolean> {
    return this.#operations.run(() => {
      assertValidName(name);
      return this.#queue.run(name, async () => {
        await this.#ensureTable(name);
        return (await this.#query(name, "looking up", this.#sql.exists, [name])).length > 0;
      });
    });
  }

  /** Removes the row of `name` (its generation and epoch too). No-op when there is none. */
  delete(name: string): Promise<void> {
    return this.#operations.run(() => {
      assertValidName(name);
      return this.#queue.run(name, async () => {
        await this.#ensureTable(name);
        await this.#query(name, "deleting", this.#sql.delete, [name]);
      });
    });
  }

  /** Names with a stored state, sorted. */
  list(): Promise<string[]> {
    return this.#operations.run(async () => {
      await this.#ensureTable(undefined);
      const rows = await this.#query<{ name: string }>(undefined, "listing", this.#sql.list, []);
      // A row put there by hand under a name no store would accept is not listed.
      return rows.map((row) => row.name).filter((name) => STATE_NAME_PATTERN.test(name));
    });
  }

  /** Waits for the operations already started, then ends the store's own pool (never one passed in). Idempotent. */
  close(): Promise<void> {
    return this.#operations.close(async () => {
      if (this.#ownPool) await this.#pool.end();
    });
  }

  #ensureTable(service: string | undefined): Promise<void> {
    if (this.#tableReady !== undefined) return this.#tableReady;
    const ready = (async () => {
      try {
        await this.#query(service, "creating the table", { name: "", text: this.#sql.createTable }, []);
      } catch (error) {
        // Two stores creating the table at once: the loser sees a duplicate (the table, its row
        // type or its catalog row, depending on where the race is lost), and the table is there.
        const code = (error as { cause?: unknown }).cause;
        if (!["42P07", "42710", "23505"].includes(sqlStateOf(code) ?? "")) throw error;
      }
    })();
    this.#tableReady = ready;
    ready.then(
      () => {
        if (this.#tableReady === ready) this.#tableOk = true;
      },
      // After a failure (an outage at first use) the next operation tries again.
      () => {
        if (this.#tableReady === ready) this.#tableReady = undefined;
      },
    );
    return ready;
  }

  /** One statement on a pooled connection, bounded by `timeoutMs`, with driver errors made typed. */
  async #query<R>(service: string | undefined, step: string, statement: Statement, values: unknown[]): Promise<R[]> {
    return (await this.#run<R>(service, step, statement, values)).rows;
  }

  /** {@link #query}, with the row count (what a conditional write without RETURNING reports). */
  async #run<R>(
    service: string | undefined,
    step: string,
    statement: Statement,
    values: unknown[],
  ): Promise<{ rows: R[]; rowCount: number }> {
    const about = service === undefined ? "" : ` "${service}"`;
    const started = Date.now();
    let client: pg.PoolClient;
    try {
      client = await withDeadline(this.#pool.connect(), this.#timeoutMs, (late) => late.release());
    } catch (cause) {
      throw new PostgresUnavailableError(
        `${step}${about}: cannot reach PostgreSQL for ${this.#table} (${cause instanceof DeadlineError ? `no connection within ${this.#timeoutMs} ms, option timeoutMs` : describeThrown(cause)})`,
        { ...(service === undefined ? {} : { service }), cause },
      );
    }
    if (!guarded.has(client)) {
      guarded.add(client);
      // A checked-out connection has no listener of the pool's: a server that dies between two
      // statements would make it emit an unhandled "error". The statement in flight (if any)
      // gets the error anyway, and a broken connection is closed when it is released.
      client.on("error", () => {});
    }
    const config = statement.name === "" ? { text: statement.text, values } : { ...statement, values };
    try {
      const result = await withDeadline(client.query(config), Math.max(1, this.#timeoutMs - (Date.now() - started)));
      client.release();
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    } catch (cause) {
      const unavailable = cause instanceof DeadlineError || isUnavailable(cause);
      // A connection that timed out or broke is not given back to the pool: it is closed.
      client.release(unavailable ? (cause as Error) : undefined);
      // The table was dropped under us: create it again next time.
      if (sqlStateOf(cause) === "42P01") {
        this.#tableReady = undefined;
        this.#tableOk = false;
      }
      const options = { ...(service === undefined ? {} : { service }), cause };
      if (unavailable) {
        throw new PostgresUnavailableError(
          `${step}${about}: PostgreSQL did not answer for ${this.#table} (${cause instanceof DeadlineError ? `no answer within ${this.#timeoutMs} ms, option timeoutMs` : describeThrown(cause)}); the outcome of a save is unknown`,
          options,
        );
      }
      throw new PostgresStoreError(
        "STATE_IO",
        `${step}${about}: PostgreSQL refused the statement on ${this.#table}: ${sqlStateOf(cause) ?? ""} ${describeThrown(cause)}`,
        options,
      );
    }
  }
}
