// The shared StateStore conformance suite (@mk/state/testing), on a real PostgreSQL:
// each test gets a fresh table; "two instances" are two stores on that table.
import { describeStateStore } from "@mk/state/testing";
import { startPostgres, type PostgresServer } from "@mk/test-servers";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { PostgresStateStore } from "@mk/store-postgres";
import { crypter, uniqueTable } from "./helpers.ts";

let server: PostgresServer;
let pool: pg.Pool;

beforeAll(async () => {
  // fsync off: these tests are about behaviour, not durability (the fault tests keep it on); a
  // process kill loses nothing either way, the OS keeps what was written.
  server = await startPostgres({ settings: { fsync: "off" } });
  pool = new pg.Pool({ connectionString: server.connectionString, max: 6 });
  pool.on("error", () => {});
});

afterAll(async () => {
  // The server first: a pool that cannot end (a connection never given back) must not keep it alive.
  await server?.stop();
  await pool?.end();
});

describeStateStore("PostgresStateStore", () => {
  const table = uniqueTable("conf");
  return {
    open: (limits) => new PostgresStateStore({ pool, crypter, table, ...limits }),
    dispose: async () => {
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    },
  };
});
