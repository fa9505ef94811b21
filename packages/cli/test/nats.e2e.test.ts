// `store: "nats://..."` through @mk/store-nats, on a real nats-server with
// JetStream started for this file (random loopback port, temporary folder).
import { startNats } from "@mk/test-servers";
import { describeServerStore } from "./server-store-suite.ts";

describeServerStore({
  title: "a NATS key-value store",
  scheme: "nats",
  start: () => startNats({ jetstream: true }),
  url: (server) => `${server.url}?bucket=mk_cli_test`,
  storeLine: /\[mk\] store nats:\/\/127\.0\.0\.1:\d+\?bucket=mk_cli_test/,
});
