// Shared-engine stores beside their raw driver floors, in one run, on real servers
// started for the run (PostgreSQL with fsync and synchronous_commit on; nats-server
// with JetStream file storage).
//
// Each op pair is the read-modify-write a service does: load (generation back),
// then save with compare-and-set on that generation and a fencing epoch, 4 KiB of
// JSON state, sealed. The floors move the same bytes with the bare driver: pg
// select + upsert (prepared, like the store), KV get + put. Rounds interleave the
// store and its floor op by op so machine noise hits both alike; p50/p99 over all samples.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { AesGcmCrypter, type Crypter } from "@mk/crypto";
import { NatsKvStateStore } from "@mk/store-nats";
import { PostgresStateStore } from "@mk/store-postgres";
import { startNats, startPostgres } from "@mk/test-servers";
import type { StateStore } from "@mk/state";
import { encodeState, openState, sealState } from "@mk/state/backend";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { stateOf } from "./helpers.ts";

const ROUNDS = Number(process.env["ROUNDS"] ?? 5);
const OPS = Number(process.env["OPS"] ?? 200);
const WARMUP = 100;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface Pair {
  label: string;
  load(): Promise<void>;
  save(): Promise<void>;
}

interface Samples {
  load: number[];
  save: number[];
}

async function runPair(pair: Pair, samples: Samples, ops: number): Promise<void> {
  for (let i = 0; i < ops; i++) {
    let t = performance.now();
    await pair.load();
    samples.load.push(performance.now() - t);
    t = performance.now();
    await pair.save();
    samples.save.push(performance.now() - t);
  }
}

function report(title: string, result: Result, names: Names): void {
  const { mk, raw, native, json } = result;
  const row = (label: string, values: number[]): string =>
    `  ${label.padEnd(46)} p50 ${percentile(values, 50).toFixed(3).padStart(7)} ms   p99 ${percentile(values, 99).toFixed(3).padStart(7)} ms`;
  const ratio = (what: string, a: number[], b: number[]): string =>
    `  ${"".padEnd(46)} ratio ${what}: p50 ${(percentile(a, 50) / percentile(b, 50)).toFixed(2)}x, p99 ${(percentile(a, 99) / percentile(b, 99)).toFixed(2)}x`;
  process.stdout.write(
    `\n${title} (${mk.save.length} samples each, interleaved op by op):\n` +
      [
        row(names.mkSave, mk.save),
        row("  same store, node:crypto AES-GCM crypter", native.save),
        row(names.rawSave, raw.save),
        ratio("mk/raw", mk.save, raw.save),
        ratio("mk (node:crypto crypter)/raw", native.save, raw.save),
        row("  raw + JSON.stringify of the state", json.save),
        ratio("mk/(raw + JSON)", mk.save, json.save),
        row(names.mkLoad, mk.load),
        row("  same store, node:crypto AES-GCM crypter", native.load),
        row(names.rawLoad, raw.load),
        ratio("mk/raw", mk.load, raw.load),
        ratio("mk (node:crypto crypter)/raw", native.load, raw.load),
        row("  raw + JSON.parse of the state", json.load),
        ratio("mk/(raw + JSON)", mk.load, json.load),
      ].join("\n") +
      "\n",
  );
}

interface Result {
  mk: Samples;
  raw: Samples;
  native: Samples;
  json: Samples;
}

async function interleave(mk: Pair, raw: Pair, native: Pair, json: Pair): Promise<Result> {
  const warm = { load: [], save: [] };
  for (const pair of [mk, raw, native, json]) await runPair(pair, warm, WARMUP);
  const result: Result = {
    mk: { load: [], save: [] },
    raw: { load: [], save: [] },
    native: { load: [], save: [] },
    json: { load: [], save: [] },
  };
  // Op by op, not block by block: a burst of load from elsewhere on the machine lands on
  // all three alike instead of on whichever block happened to be running.
  for (let i = 0; i < ROUNDS * OPS; i++) {
    await runPair(raw, result.raw, 1);
    await runPair(mk, result.mk, 1);
    await runPair(native, result.native, 1);
    await runPair(json, result.json, 1);
  }
  return result;
}

/**
 * A bare AES-256-GCM crypter on node:crypto (nonce || ciphertext || tag, no envelope,
 * no per-message subkey): not for use, only to show how much of the store's cost is the
 * crypter and how much is the store.
 */
function nodeCrypter(key: Uint8Array): Crypter {
  return {
    encrypt: async (plaintext, ad) => {
      const nonce = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, nonce);
      if (ad !== undefined) cipher.setAAD(ad);
      return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    },
    decrypt: async (sealed, ad) => {
      const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, 12));
      if (ad !== undefined) decipher.setAAD(ad);
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
    },
  };
}

/** The read-modify-write pair a service does on `store`: load (generation back), then CAS save. */
function storePair(label: string, store: StateStore): Pair {
  let generation = 0;
  return {
    label,
    load: async () => {
      generation = (await store.load("svc"))?.generation ?? 0;
    },
    save: () => store.save("svc", state, { ifGeneration: generation, epoch: 1 }),
  };
}

interface Names {
  mkLoad: string;
  mkSave: string;
  rawLoad: string;
  rawSave: string;
}

/** Row labels: the store's class and the bare driver's write and read. */
function namesFor(store: string, rawWrite: string, rawRead: string): Names {
  return {
    mkSave: `${store}.save (CAS + epoch + seal)`,
    rawSave: `raw ${rawWrite}, same bytes`,
    mkLoad: `${store}.load (open + decode)`,
    rawLoad: `raw ${rawRead}`,
  };
}

/** The bare driver on one key: `read` gives the stored bytes back, `write` stores some. */
interface Floor {
  read(key: string): Promise<Uint8Array | undefined>;
  write(key: string, bytes: Uint8Array): Promise<void>;
}

/** The raw floor: the same number of bytes as the store moves, no work on them. */
function rawPair(floor: Floor): Pair {
  return {
    label: "raw",
    load: async () => void (await floor.read("svc")),
    save: () => floor.write("svc", payload),
  };
}

/**
 * What an app storing JSON state through the bare driver pays at least: stringify on save,
 * parse on load (no checks, no crypto, no CAS). Shown beside the goal's floor, not instead.
 */
function jsonPair(floor: Floor): Pair {
  return {
    label: "json",
    load: async () => {
      const bytes = await floor.read("svc-json");
      if (bytes !== undefined) JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString());
    },
    save: () => floor.write("svc-json", Buffer.from(JSON.stringify(state))),
  };
}

/** Times one backend's store, the same store with the node:crypto crypter, and its raw floors, then reports. */
async function benchBackend(
  title: string,
  stores: { mk: StateStore; native: StateStore },
  floor: Floor,
  names: Names,
): Promise<void> {
  const result = await interleave(
    storePair("mk", stores.mk),
    rawPair(floor),
    storePair("native", stores.native),
    jsonPair(floor),
  );
  report(title, result, names);
}

const state = stateOf(4 * 1024);
const crypter = new AesGcmCrypter(randomBytes(32));
const sealedBytes = (await crypter.encrypt(new TextEncoder().encode(JSON.stringify(state)), new Uint8Array(3))).length;
const payload = randomBytes(sealedBytes + 50); // the document wrapper around the state, roughly
process.stdout.write(
  `4 KiB JSON state: ${JSON.stringify(state).length} bytes, ${sealedBytes} sealed; machine shared, figures indicative\n`,
);

// The CPU part alone (no server): what the stores add on top of the driver.
{
  const sealTimes: number[] = [];
  const openTimes: number[] = [];
  let sealed = await sealState(crypter, "svc", encodeState(state), undefined, 1 << 26);
  for (let i = 0; i < WARMUP + ROUNDS * OPS; i++) {
    let t = performance.now();
    sealed = await sealState(crypter, "svc", encodeState(state), undefined, 1 << 26);
    if (i >= WARMUP) sealTimes.push(performance.now() - t);
    t = performance.now();
    await openState(crypter, "svc", sealed, 1 << 26, 256, "bench");
    if (i >= WARMUP) openTimes.push(performance.now() - t);
  }
  process.stdout.write(
    `CPU alone: encode + seal p50 ${percentile(sealTimes, 50).toFixed(3)} ms, open + decode p50 ${percentile(openTimes, 50).toFixed(3)} ms (AesGcmCrypter, no server)\n`,
  );
}

// PostgreSQL
{
  const server = await startPostgres();
  const pool = new pg.Pool({ connectionString: server.connectionString, max: 2 });
  pool.on("error", () => {});
  const store = new PostgresStateStore({ pool, crypter, table: "bench_state" });
  const nativeStore = new PostgresStateStore({ pool, crypter: nodeCrypter(randomBytes(32)), table: "bench_native" });
  try {
    // The store's own storage setting (rows up to a page stay out of TOAST), so the ratio
    // measures the store, not a table layout anyone could use.
    await pool.query(
      "CREATE TABLE raw_state (name text PRIMARY KEY, data bytea NOT NULL) WITH (toast_tuple_target = 8160)",
    );
    const floor: Floor = {
      read: async (key) => {
        const result = await pool.query<{ data: Buffer }>({
          name: "raw_select",
          text: "SELECT data FROM raw_state WHERE name = $1",
          values: [key],
        });
        return result.rows[0]?.data;
      },
      write: async (key, bytes) => {
        await pool.query({
          name: "raw_upsert",
          text: "INSERT INTO raw_state (name, data) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data",
          values: [key, bytes],
        });
      },
    };
    await benchBackend(
      "PostgreSQL 15, 4 KiB state, fsync + synchronous_commit on",
      { mk: store, native: nativeStore },
      floor,
      namesFor("PostgresStateStore", "pg upsert", "pg select"),
    );
  } finally {
    await store.close();
    await nativeStore.close();
    await pool.end();
    await server.stop();
  }
}

// NATS JetStream KV
{
  const server = await startNats({ jetstream: true });
  const connection = await connect({ servers: server.url });
  const store = new NatsKvStateStore({ connection, crypter, bucket: "bench_state" });
  const nativeStore = new NatsKvStateStore({
    connection,
    crypter: nodeCrypter(randomBytes(32)),
    bucket: "bench_native",
  });
  try {
    const kv = await new Kvm(connection).create("raw_state", { history: 1, storage: "file" });
    const floor: Floor = {
      read: async (key) => (await kv.get(key))?.value,
      write: async (key, bytes) => void (await kv.put(key, bytes)),
    };
    await benchBackend(
      "NATS JetStream KV (nats-server 2.9, file storage), 4 KiB state",
      { mk: store, native: nativeStore },
      floor,
      namesFor("NatsKvStateStore", "kv.put", "kv.get"),
    );
  } finally {
    await store.close();
    await nativeStore.close();
    await connection.close();
    await server.stop();
  }
}

process.stdout.write("\ngoal: mk <= 1.5x the raw floor at 4 KiB (crypto, CAS and fencing included)\n");
