// The shared StateStore conformance suite (@mk/state/testing), on a real nats-server
// with JetStream: each test gets a fresh bucket; "two instances" are two stores on it.
import { describeStateStore } from "@mk/state/testing";
import { startNats, type NatsServer } from "@mk/test-servers";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll } from "vitest";
import { NatsKvStateStore } from "@mk/store-nats";
import { crypter, uniqueBucket } from "./helpers.ts";

let server: NatsServer;
let connection: NatsConnection;

beforeAll(async () => {
  // The suite round-trips a 1 MiB state; a NATS message is capped at max_payload (1 MiB by default).
  server = await startNats({ jetstream: true, maxPayload: 8 * 1024 * 1024 });
  connection = await connect({ servers: server.url });
});

afterAll(async () => {
  await connection?.close();
  await server?.stop();
});

describeStateStore("NatsKvStateStore", () => {
  const bucket = uniqueBucket("conf");
  return {
    open: (limits) => new NatsKvStateStore({ connection, crypter, bucket, ...limits }),
    dispose: async () => {
      const jsm = await jetstreamManager(connection);
      await jsm.streams.delete(`KV_${bucket}`).catch(() => false);
    },
  };
});
