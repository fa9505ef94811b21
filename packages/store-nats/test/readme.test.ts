// The README's usage example, run as written against a real nats-server.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runReadmeExample, startNats, type NatsServer } from "@mk/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
let server: NatsServer;

beforeAll(async () => {
  server = await startNats({ jetstream: true });
});

afterAll(async () => {
  await server?.stop();
});

describe("README usage example", () => {
  it("runs against a real nats-server and prints what its comments say", async () => {
    const printed = await runReadmeExample(join(here, ".."), here, { NATS_URL: server.url });
    expect(printed).toEqual([[{ count: 1 }, "1.0.0", 0], ["STATE_CONFLICT"], ["STATE_FENCED"], [["echo"]]]);
  });
});
