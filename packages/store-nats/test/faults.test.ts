// Faults with real processes: nats-server (JetStream, file storage) is SIGKILLed in the middle of
// save loops and restarted on the same data (the shared suite in @mk/test-servers).
import { crypter, describeFaults, startNats, type NatsServer } from "@mk/test-servers";
import { NatsKvStateStore } from "@mk/store-nats";
import { uniqueBucket } from "./helpers.ts";

describeFaults<NatsServer>({
  title: "NatsKvStateStore under a SIGKILLed nats-server",
  unit: "entry",
  start: () => startNats({ jetstream: true }),
  open: (server, bucket, options) => new NatsKvStateStore({ servers: server.url, crypter, bucket, ...options }),
  uniqueSpace: uniqueBucket,
});
