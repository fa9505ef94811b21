import { startPostgres, type PostgresServer } from "@mk/test-servers";
import { StateError } from "@mk/state";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStateStore, PostgresUnavailableError } from "@mk/store-postgres";
import { crypter, otherKey, rejection, uniqueTable } from "./helpers.ts";

let server: PostgresServer;
let pool: pg.Pool;

beforeAll(async () => {
  // fsync off: these tests are about behaviour, not durability (the fault tests keep it on); a
  // process kill loses nothing either way, the OS keeps what was written.
  server = await startPostgres({ settings: { fsync: "off" } });
  pool = new pg.Pool({ connectionString: server.connectionString, max: 4 });
  pool.on("error", () => {}); // idle connections dropped by the restart test
});

afterAll(async () => {
  // The server first: a pool that cannot end (a connection never given back) must not keep it alive.
  await server?.stop();
  await pool?.end();
});

function store(options: { table?: string; timeoutMs?: number } = {}): PostgresStateStore {
  return new PostgresStateStore({ pool, crypter, table: options.table ?? uniqueTable(), ...options });
}

describe("PostgresStateStore: the contract", () => {
  it("round-trips state and version, creates its table on first use, lists sorted", async () => {
    const s = store();
    expect(await s.list()).toEqual([]);
    expect(await s.load("echo")).toBeUndefined();
    expect(await s.exists("echo")).toBe(false);
    await s.save("echo", { count: 1, tags: ["a"] }, { version: "1.0.0" });
    await s.save("alpha", [1, 2, 3]);
    const loaded = await s.load("echo");
    expect(loaded).toMatchObject({ state: { count: 1, tags: ["a"] }, version: "1.0.0", epoch: 0 });
    expect(loaded?.generation).toBeGreaterThan(0);
    expect(await s.load("alpha")).not.toHaveProperty("version");
    expect(await s.exists("echo")).toBe(true);
    expect(await s.list()).toEqual(["alpha", "echo"]);
    await s.delete("echo");
    await s.delete("echo");
    expect(await s.list()).toEqual(["alpha"]);
  });

  it("keeps a 4 KiB sealed state in the table itself, not in TOAST (toast_tuple_target, as the README says)", async () => {
    const table = uniqueTable();
    const s = store({ table });
    await s.save("big", { blob: "x".repeat(4096) });
    const { rows } = await pool.query<{ options: string[] | null; toast: string }>(
      "SELECT reloptions AS options, COALESCE(pg_relation_size(reltoastrelid), 0)::text AS toast FROM pg_class WHERE relname = $1",
      [table],
    );
    expect(rows[0]?.options).toContain("toast_tuple_target=8160");
    expect(rows[0]?.toast).toBe("0");
    expect((await s.load("big"))?.state).toEqual({ blob: "x".repeat(4096) });
  });

  it("stores racing to create the table on first use all succeed (regression: 42710 'type already exists' escaped)", async () => {
    // Stores on their own connections, so the CREATE TABLE statements really run at once.
    for (let round = 0; round < 10; round++) {
      const table = uniqueTable("race_create");
      const stores = Array.from(
        { length: 6 },
        () => new PostgresStateStore({ connectionString: server.connectionString, crypter, table }),
      );
      try {
        await Promise.all(stores.map((s, i) => s.save(`svc${i}`, i)));
        expect(await stores[0]?.list()).toEqual(["svc0", "svc1", "svc2", "svc3", "svc4", "svc5"]);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    }
  });

  it("increases the generation on every save", async () => {
    const s = store();
    let previous = 0;
    for (let i = 0; i < 5; i++) {
      await s.save("gen", i);
      const generation = (await s.load("gen"))?.generation ?? 0;
      expect(generation).toBeGreaterThan(previous);
      previous = generation;
    }
  });

  it("compare-and-set: 0 only when nothing is stored, then the loaded generation; a mismatch names the stored one", async () => {
    const s = store();
    await s.save("cas", "first", { ifGeneration: 0 });
    const again = await rejection(s.save("cas", "second", { ifGeneration: 0 }));
    const stored = (await s.load("cas"))?.generation ?? -1;
    expect(again).toMatchObject({ code: "STATE_CONFLICT", expectedGeneration: 0, storedGeneration: stored });
    expect(again.message).toContain(`the stored generation is ${stored}`);
    await s.save("cas", "second", { ifGeneration: stored });
    const stale = await rejection(s.save("cas", "third", { ifGeneration: stored }));
    expect(stale.code).toBe("STATE_CONFLICT");
    expect((await s.load("cas"))?.state).toBe("second");
    const missing = await rejection(s.save("nothing-here", 1, { ifGeneration: 5 }));
    expect(missing).toMatchObject({ code: "STATE_CONFLICT", storedGeneration: 0 });
    expect(await s.exists("nothing-here")).toBe(false);
  });

  it("fencing: a lower epoch is refused, an equal one accepted, a save without one keeps the stored epoch", async () => {
    const s = store();
    await s.save("lead", "a", { epoch: 3 });
    expect((await s.load("lead"))?.epoch).toBe(3);
    await s.save("lead", "b", { epoch: 3 });
    const fenced = await rejection(s.save("lead", "c", { epoch: 2 }));
    expect(fenced).toMatchObject({ code: "STATE_FENCED", epoch: 2, storedEpoch: 3 });
    await s.save("lead", "d");
    expect(await s.load("lead")).toMatchObject({ state: "d", epoch: 3 });
    await s.save("lead", "e", { epoch: 7 });
    expect(await s.load("lead")).toMatchObject({ state: "e", epoch: 7 });
    // Fencing is checked first: a stale owner hears it is stale, even with a wrong generation too.
    expect((await rejection(s.save("lead", "f", { epoch: 1, ifGeneration: 1 }))).code).toBe("STATE_FENCED");
    // A fenced insert-if-absent: the row exists and the epoch is stale.
    expect((await rejection(s.save("lead", "g", { epoch: 1, ifGeneration: 0 }))).code).toBe("STATE_FENCED");
  });

  it("two stores racing with compare-and-set on one name: exactly one wins each generation, none lost silently", async () => {
    const table = uniqueTable();
    const a = store({ table });
    const b = store({ table });
    await a.save("race", { n: 0 }, { ifGeneration: 0 });
    let wins = 0;
    for (let round = 1; round <= 15; round++) {
      const generation = (await a.load("race"))?.generation ?? -1;
      const outcomes = await Promise.allSettled([
        a.save("race", { n: round, by: "a" }, { ifGeneration: generation }),
        b.save("race", { n: round, by: "b" }, { ifGeneration: generation }),
      ]);
      const won = outcomes.filter((o) => o.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === "rejected") expect((o.reason as StateError).code).toBe("STATE_CONFLICT");
      }
      const winner = outcomes[0]?.status === "fulfilled" ? "a" : "b";
      expect((await b.load("race"))?.state).toEqual({ n: round, by: winner });
      wins += won.length;
    }
    expect(wins).toBe(15);
  });

  it("rejects invalid names on every method with INVALID_NAME, and bad meta with INVALID_ARGUMENT", async () => {
    const s = store();
    for (const bad of ["", "../x", "a'b", "a;drop table x", "é", 42, null]) {
      const name = bad as string;
      for (const call of [s.save(name, 1), s.load(name), s.exists(name), s.delete(name)]) {
        expect((await rejection(call)).code).toBe("INVALID_NAME");
      }
    }
    for (const meta of [{ version: 1 }, { ifGeneration: -1 }, { ifGeneration: 1.5 }, { epoch: "2" }, 7]) {
      expect((await rejection(s.save("ok", 1, meta as never))).code).toBe("INVALID_ARGUMENT");
    }
    expect(await s.exists("ok")).toBe(false);
  });

  it("refuses states JSON would change (STATE_ENCODE_FAILED) and oversized ones (STATE_TOO_LARGE), keeping the old state", async () => {
    const s = new PostgresStateStore({ pool, crypter, table: uniqueTable(), maxBytes: 4096 });
    await s.save("keep", { good: 1 });
    const encode = await rejection(s.save("keep", { when: new Date(0) }));
    expect(encode).toMatchObject({ code: "STATE_ENCODE_FAILED", valuePath: "state.when" });
    expect((await rejection(s.save("keep", "x".repeat(5000)))).code).toBe("STATE_TOO_LARGE");
    expect((await s.load("keep"))?.state).toEqual({ good: 1 });
  });

  it("refuses bad options with INVALID_ARGUMENT, table names included (no SQL from options)", () => {
    const bad: unknown[] = [
      undefined,
      {},
      { pool, crypter, connectionString: "postgres://x" },
      { pool },
      { pool, crypter: {} },
      { pool, crypter, table: 'x"; drop table y; --' },
      { pool, crypter, table: "Upper" },
      { pool, crypter, table: "a.b.c" },
      { pool, crypter, table: "" },
      { pool, crypter, table: 5 },
      { pool, crypter, timeoutMs: 0 },
      { pool, crypter, maxBytes: -1 },
      { connectionString: "", crypter },
    ];
    for (const [index, options] of bad.entries()) {
      expect(() => new PostgresStateStore(options as never), `case ${index}`).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT" }),
      );
    }
    expect(() => new PostgresStateStore({ pool, crypter, table: "public.mk_state_x" })).not.toThrow();
  });

  it("serializes operations on one name in call order: the last save wins, each load sees the save before it", async () => {
    const s = store();
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.save("order", { i }, { version: String(i) })));
    expect(await s.load("order")).toMatchObject({ state: { i: 19 }, version: "19" });
    const seen: unknown[] = [];
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      ops.push(s.save("order", i));
      ops.push(s.load("order").then((loaded) => seen.push(loaded?.state)));
    }
    await Promise.all(ops);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });
});

describe("PostgresStateStore: sealing", () => {
  it("stores only sealed bytes; a row copied to another name does not open; a flipped byte is STATE_DECRYPT_FAILED; nothing is overwritten", async () => {
    const table = uniqueTable();
    const s = store({ table });
    await s.save("source", { secret: "plain-text-marker" }, { version: "1" });
    const raw = await pool.query<{ sealed: Buffer }>(`select sealed from ${table} where name = 'source'`);
    const sealed = raw.rows[0]?.sealed ?? Buffer.alloc(0);
    expect(sealed.toString("latin1")).not.toContain("plain-text-marker");

    await pool.query(
      `insert into ${table} (name, generation, epoch, version, sealed) select 'copy', generation, epoch, version, sealed from ${table} where name = 'source'`,
    );
    const copied = await rejection(s.load("copy"));
    expect(copied).toMatchObject({ code: "STATE_DECRYPT_FAILED", service: "copy" });
    expect(copied.message).toContain(`"copy"`);

    const flipped = Buffer.from(sealed);
    flipped[flipped.length >> 1] = (flipped[flipped.length >> 1] ?? 0) ^ 0x40;
    await pool.query(`update ${table} set sealed = $1 where name = 'source'`, [flipped]);
    expect((await rejection(s.load("source"))).code).toBe("STATE_DECRYPT_FAILED");
    // The failed load wrote nothing: the damaged bytes are still there for inspection.
    const after = await pool.query<{ sealed: Buffer }>(`select sealed from ${table} where name = 'source'`);
    expect(Buffer.compare(after.rows[0]?.sealed ?? Buffer.alloc(0), flipped)).toBe(0);
  });

  it("list() leaves out rows put there by hand under names no store accepts", async () => {
    const table = uniqueTable();
    const s = store({ table });
    await s.save("good", 1);
    await pool.query(
      `insert into ${table} (name, generation, sealed) values ('../escape', 1, '\\x00'), ('a b', 1, '\\x00')`,
    );
    expect(await s.list()).toEqual(["good"]);
  });

  it("a store with another key cannot open the rows (STATE_DECRYPT_FAILED)", async () => {
    const table = uniqueTable();
    await store({ table }).save("k", 1);
    const other = new PostgresStateStore({ pool, crypter: otherKey, table });
    expect((await rejection(other.load("k"))).code).toBe("STATE_DECRYPT_FAILED");
  });

  it("a version column changed behind the store's back is STATE_CORRUPT", async () => {
    const table = uniqueTable();
    const s = store({ table });
    await s.save("v", 1, { version: "1" });
    await pool.query(`update ${table} set version = '2' where name = 'v'`);
    expect((await rejection(s.load("v"))).code).toBe("STATE_CORRUPT");
  });
});

describe("PostgresStateStore: lifecycle and outages", () => {
  it("close() waits for started operations, is idempotent, and later calls reject with STATE_CLOSED", async () => {
    const s = new PostgresStateStore({ connectionString: server.connectionString, crypter, table: uniqueTable() });
    const pending = s.save("c", { v: 1 });
    const closing = s.close();
    await pending;
    await closing;
    await s.close();
    expect((await rejection(s.load("c"))).code).toBe("STATE_CLOSED");
    expect((await rejection(s.save("c", 1))).code).toBe("STATE_CLOSED");
    // A pool passed in is the caller's: closing the store leaves it usable.
    const borrowed = store();
    await borrowed.close();
    expect((await pool.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
  });

  it("a save while the server is down rejects with PostgresUnavailableError within the bound; the next succeeds once it is back", async () => {
    const s = new PostgresStateStore({
      connectionString: server.connectionString,
      crypter,
      table: uniqueTable(),
      timeoutMs: 2_000,
    });
    try {
      await s.save("o", 1);
      await server.kill();
      const down = await rejection(s.save("o", 2));
      expect(down).toBeInstanceOf(PostgresUnavailableError);
      expect(down).toMatchObject({ code: "STATE_IO", service: "o" });
      expect((await rejection(s.load("o"))).code).toBe("STATE_IO");
      // A store whose first use falls in the outage (its table not yet checked) recovers too.
      const fresh = new PostgresStateStore({
        connectionString: server.connectionString,
        crypter,
        table: uniqueTable(),
        timeoutMs: 2_000,
      });
      expect((await rejection(fresh.save("f", 1))).code).toBe("STATE_IO");
      await server.restart();
      await s.save("o", 3);
      expect((await s.load("o"))?.state).toBe(3);
      await fresh.save("f", 2);
      expect((await fresh.load("f"))?.state).toBe(2);
      await fresh.close();
    } finally {
      await s.close();
    }
  });

  it("a hung server (SIGSTOP) makes a save reject within the bound instead of hanging; after SIGCONT the next save succeeds", async () => {
    const s = new PostgresStateStore({
      connectionString: server.connectionString,
      crypter,
      table: uniqueTable(),
      timeoutMs: 1_500,
    });
    try {
      await s.save("h", 1);
      expect(await server.pause()).toBe(true);
      try {
        const hung = await rejection(s.save("h", 2));
        expect(hung).toBeInstanceOf(PostgresUnavailableError);
        expect(hung.message).toContain("no answer within 1500 ms");
      } finally {
        server.signal("SIGCONT");
      }
      await s.save("h", 3);
      expect((await s.load("h"))?.state).toBe(3);
    } finally {
      await s.close();
    }
  });
});
