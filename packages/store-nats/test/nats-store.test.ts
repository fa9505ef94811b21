import { startNats, type NatsServer } from "@mk/test-servers";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsKvStateStore, NatsUnavailableError } from "@mk/store-nats";
import { crypter, otherKey, rejection, uniqueBucket } from "./helpers.ts";

let server: NatsServer;
let connection: NatsConnection;

beforeAll(async () => {
  server = await startNats({ jetstream: true });
  connection = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
});

afterAll(async () => {
  await connection?.close();
  await server?.stop();
});

function store(options: { bucket?: string } = {}): NatsKvStateStore {
  return new NatsKvStateStore({ connection, crypter, bucket: options.bucket ?? uniqueBucket() });
}

async function rawKv(bucket: string) {
  return new Kvm(connection).open(bucket);
}

describe("NatsKvStateStore: the contract", () => {
  it("round-trips state and version, creates its bucket on first use, keeps dotted names apart", async () => {
    const s = store();
    expect(await s.list()).toEqual([]);
    await s.save("echo", { count: 1 }, { version: "1.0.0" });
    for (const name of ["a..", "a.b", "a=b".replace("=", "_"), "x.state", "a"]) await s.save(name, name);
    expect(await s.load("echo")).toMatchObject({ state: { count: 1 }, version: "1.0.0", epoch: 0 });
    for (const name of ["a..", "a.b", "a_b", "x.state", "a"]) expect((await s.load(name))?.state).toBe(name);
    expect(await s.list()).toEqual(["a", "a..", "a.b", "a_b", "echo", "x.state"]);
    await s.delete("a..");
    expect(await s.exists("a..")).toBe(false);
    expect(await s.exists("a.b")).toBe(true);
  });

  it("the generation is the KV revision: compare-and-set and fencing work through it", async () => {
    const s = store();
    await s.save("cas", 1, { ifGeneration: 0 });
    const first = await s.load("cas");
    expect((await rejection(s.save("cas", 2, { ifGeneration: 0 }))).code).toBe("STATE_CONFLICT");
    await s.save("cas", 2, { ifGeneration: first?.generation ?? -1, epoch: 4 });
    const second = await s.load("cas");
    expect(second?.generation).toBeGreaterThan(first?.generation ?? 0);
    expect(second).toMatchObject({ state: 2, epoch: 4 });
    const stale = await rejection(s.save("cas", 3, { ifGeneration: first?.generation ?? -1 }));
    expect(stale).toMatchObject({ code: "STATE_CONFLICT", storedGeneration: second?.generation });
    expect(await rejection(s.save("cas", 3, { epoch: 3 }))).toMatchObject({ code: "STATE_FENCED", storedEpoch: 4 });
    // After a delete, "nothing stored" again (a delete marker is not a state).
    await s.delete("cas");
    await s.save("cas", 5, { ifGeneration: 0, epoch: 1 });
    expect(await s.load("cas")).toMatchObject({ state: 5, epoch: 1 });
  });

  it("refuses bad options with INVALID_ARGUMENT", () => {
    const bad: unknown[] = [
      undefined,
      {},
      { connection },
      { connection, crypter, servers: "nats://x" },
      { connection, crypter: { encrypt: 1 } },
      { connection, crypter, bucket: "a.b" },
      { connection, crypter, bucket: "a b" },
      { connection, crypter, bucket: "" },
      { connection, crypter, bucket: "x".repeat(65) },
      { connection, crypter, bucket: 1 },
      { connection, crypter, timeoutMs: 0 },
      { connection, crypter, history: 0 },
      { servers: [], crypter },
      { servers: [""], crypter },
      { connection: {}, crypter },
    ];
    for (const [index, options] of bad.entries()) {
      expect(() => new NatsKvStateStore(options as never), `case ${index}`).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT" }),
      );
    }
  });
});

describe("NatsKvStateStore: sealing", () => {
  it("stores only sealed bytes; a value copied to another key does not open; a flipped byte is STATE_DECRYPT_FAILED; nothing is overwritten", async () => {
    const bucket = uniqueBucket();
    const s = store({ bucket });
    await s.save("source", { secret: "plain-text-marker" }, { version: "1" });
    const kv = await rawKv(bucket);
    const entry = await kv.get("source");
    const value = entry?.value ?? new Uint8Array(0);
    expect(Buffer.from(value).toString("latin1")).not.toContain("plain-text-marker");

    await kv.put("copy", value);
    expect(await rejection(s.load("copy"))).toMatchObject({ code: "STATE_DECRYPT_FAILED", service: "copy" });

    const flipped = value.slice();
    flipped[flipped.length >> 1] = (flipped[flipped.length >> 1] ?? 0) ^ 0x40;
    const revision = await kv.put("source", flipped);
    expect((await rejection(s.load("source"))).code).toBe("STATE_DECRYPT_FAILED");
    expect((await kv.get("source"))?.revision).toBe(revision);
  });

  it("a value that is not an mk value is STATE_CORRUPT; a newer value format is STATE_UNSUPPORTED_VERSION", async () => {
    const bucket = uniqueBucket();
    const s = store({ bucket });
    await s.save("x", 1);
    const kv = await rawKv(bucket);
    await kv.put("junk", new TextEncoder().encode("{}"));
    expect((await rejection(s.load("junk"))).code).toBe("STATE_CORRUPT");
    const newer = ((await kv.get("x"))?.value ?? new Uint8Array(0)).slice();
    newer[2] = 9;
    await kv.put("newer", newer);
    expect((await rejection(s.load("newer"))).code).toBe("STATE_UNSUPPORTED_VERSION");
  });

  it("a store with another key cannot open the entries (STATE_DECRYPT_FAILED)", async () => {
    const bucket = uniqueBucket();
    await store({ bucket }).save("k", 1);
    const other = new NatsKvStateStore({ connection, crypter: otherKey, bucket });
    expect((await rejection(other.load("k"))).code).toBe("STATE_DECRYPT_FAILED");
  });

  it("a state over the server's max_payload is STATE_TOO_LARGE, naming it", async () => {
    const s = store();
    const error = await rejection(s.save("huge", "x".repeat(1_100_000)));
    expect(error.code).toBe("STATE_TOO_LARGE");
    expect(error.message).toContain("max_payload is 1048576");
  });
});

describe("NatsKvStateStore: lifecycle and outages", () => {
  it("close() waits for started operations, is idempotent, and later calls reject with STATE_CLOSED; a passed connection stays open", async () => {
    const own = new NatsKvStateStore({ servers: server.url, crypter, bucket: uniqueBucket() });
    const pending = own.save("c", { v: 1 });
    const closing = own.close();
    await pending;
    await closing;
    await own.close();
    expect((await rejection(own.load("c"))).code).toBe("STATE_CLOSED");
    const borrowed = store();
    await borrowed.save("c", 1);
    await borrowed.close();
    expect(connection.isClosed()).toBe(false);
  });

  it("a save while the server is down rejects with NatsUnavailableError within the bound; the next succeeds once it is back", async () => {
    const s = new NatsKvStateStore({ servers: server.url, crypter, bucket: uniqueBucket(), timeoutMs: 2_000 });
    try {
      await s.save("o", 1);
      await server.kill();
      const down = await rejection(s.save("o", 2));
      expect(down).toBeInstanceOf(NatsUnavailableError);
      expect(down).toMatchObject({ code: "STATE_IO", service: "o" });
      // A store whose first use falls in the outage (no connection yet) recovers too.
      const fresh = new NatsKvStateStore({ servers: server.url, crypter, bucket: uniqueBucket(), timeoutMs: 2_000 });
      expect((await rejection(fresh.save("f", 1))).code).toBe("STATE_IO");
      await server.restart();
      // The store waits for the client to reconnect (within timeoutMs) before it sends.
      await s.save("o", 3);
      await fresh.save("f", 2);
      expect((await fresh.load("f"))?.state).toBe(2);
      await fresh.close();
      expect((await s.load("o"))?.state).toBe(3);
    } finally {
      await s.close();
    }
  });

  it("a hung server (SIGSTOP) makes a save reject within the bound instead of hanging; after SIGCONT the next succeeds", async () => {
    const s = new NatsKvStateStore({ servers: server.url, crypter, bucket: uniqueBucket(), timeoutMs: 1_500 });
    try {
      await s.save("h", 1);
      expect(await server.pause()).toBe(true);
      try {
        const hung = await rejection(s.save("h", 2));
        expect(hung).toBeInstanceOf(NatsUnavailableError);
      } finally {
        server.signal("SIGCONT");
      }
      let saved = false;
      for (let i = 0; i < 60 && !saved; i++)
        saved = await s.save("h", 3).then(
          () => true,
          () => false,
        );
      expect(saved).toBe(true);
      expect((await s.load("h"))?.state).toBe(3);
    } finally {
      await s.close();
    }
  });
});
