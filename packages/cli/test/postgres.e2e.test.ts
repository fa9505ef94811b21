// `store: "postgres://..."` through @mk/store-postgres, on a real PostgreSQL
// started for this file (random loopback port, temporary folder).
import { startPostgres } from "@mk/test-servers";
import { describeServerStore } from "./server-store-suite.ts";

describeServerStore({
  title: "a PostgreSQL store",
  scheme: "postgres",
  start: () => startPostgres(),
  url: (server) => `${server.connectionString}?table=mk_cli_test`,
  storeLine: /\[mk\] store postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres\?table=mk_cli_test/,
});
