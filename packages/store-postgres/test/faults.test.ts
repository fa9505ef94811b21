// Faults with real processes: the database server is SIGKILLed in the middle of save loops and
// restarted on the same data (the shared suite in @mk/test-servers).
import { crypter, describeFaults, startPostgres, type PostgresServer } from "@mk/test-servers";
import { PostgresStateStore } from "@mk/store-postgres";
import { uniqueTable } from "./helpers.ts";

describeFaults<PostgresServer>({
  title: "PostgresStateStore under a SIGKILLed server",
  unit: "row",
  start: () => startPostgres(),
  open: (server, table, options) =>
    new PostgresStateStore({ connectionString: server.connectionString, crypter, table, ...options }),
  uniqueSpace: uniqueTable,
});
