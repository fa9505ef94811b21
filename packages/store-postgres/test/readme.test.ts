// The README's usage example, run as written against a real PostgreSQL.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runReadmeExample, startPostgres, type PostgresServer } from "@mk/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  await server?.stop();
});

describe("README usage example", () => {
  it("runs against a real PostgreSQL and prints what its comments say", async () => {
    const printed = await runReadmeExample(join(here, ".."), here, { DATABASE_URL: server.connectionString });
    expect(printed).toEqual([[{ count: 1 }, "1.0.0", 0], ["STATE_CONFLICT"], ["STATE_FENCED"], [["echo"]]]);
  });
});
