// Hot swap under load: the latency that callers see while a service is being
// swapped again and again (p50/p99/max versus the same load with no swap), at
// 1 KiB and 1 MiB of state, and how long one swap takes against its floor:
// encrypting and decrypting the same state (JSON + AES-GCM) with no kernel.
//
//   pnpm build && pnpm bench swap
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernel, type Event, type Reply, type Service } from "@mk/core";
import { AesGcmCrypter } from "@mk/crypto";
import { createLogger } from "@mk/logger";
import { FileStateStore, type StateStore } from "@mk/state";

const WINDOW_MS = Number(process.env.WINDOW_MS ?? 1500);
const CONCURRENCY = 100;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const KEY = "0123456789abcdef0123456789abcdef";

interface State {
  count: number;
  blob: string;
}

function echo(version: string, state: State): Service & { state: State } {
  const svc = {
    name: "echo",
    version,
    state,
    handle: (e: Event): Reply => {
      svc.state.count++;
      return { code: 0, message: "ok", data: e.content };
    },
    exportState: (): State => svc.state,
    importState: (s: unknown): void => {
      svc.state = s as State;
    },
  };
  return svc;
}

/** Runs CONCURRENCY callers for WINDOW_MS while `during` runs; returns every call's latency in µs. */
async function underLoad(
  kernel: Kernel,
  during: (stop: () => boolean) => Promise<number[]>,
): Promise<{ lat: Float64Array; swaps: number[]; bad: number }> {
  const lat: number[] = [];
  let bad = 0;
  let stopped = false;
  const event: Event = { to: "echo", from: "bench", type: "t", content: 1 };
  const worker = async (i: number): Promise<void> => {
    while (!stopped) {
      const t0 = process.hrtime.bigint();
      const r = await (i % 2 === 0 ? kernel.send(event) : kernel.push(event));
      lat.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (r.code !== 0) bad++;
      // Yield to timers and I/O now and then, as real callers would.
      if (lat.length % 64 === 0) await new Promise<void>((r) => setImmediate(r));
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, (_, i) => worker(i));
  const deadline = performance.now() + WINDOW_MS;
  const swaps = await during(() => performance.now() >= deadline);
  while (performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  stopped = true;
  await Promise.all(workers);
  return { lat: Float64Array.from(lat).sort(), swaps, bad };
}

const q = (xs: Float64Array | number[], p: number): number => {
  const s = xs instanceof Float64Array ? xs : Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? 0;
};
const median = (xs: number[]): number => q(xs, 0.5);

async function scenario(label: string, stateBytes: number, store: StateStore | undefined): Promise<void> {
  const blob = "x".repeat(stateBytes);
  const kernel = new Kernel({
    logger: createLogger({ level: "warn", sinks: [() => undefined] }),
    checkpointIntervalMs: 0,
    queueCapacity: 10_000,
    ...(store ? { store } : {}),
  });
  await kernel.register(echo("1", { count: 0, blob }));
  await kernel.startAll();
  const base: number[][] = [[], [], [], []];
  const swapped: number[][] = [[], [], [], []];
  const durations: number[] = [];
  let bad = 0;
  let calls = 0;
  for (let round = 0; round < ROUNDS; round++) {
    globalThis.gc?.();
    const a = await underLoad(kernel, async () => []);
    base[0]?.push(q(a.lat, 0.5));
    base[1]?.push(q(a.lat, 0.99));
    base[2]?.push(q(a.lat, 1));
    base[3]?.push(q(a.lat, 0.999));
    globalThis.gc?.();
    let v = 1;
    const b = await underLoad(kernel, async (done) => {
      const times: number[] = [];
      while (!done()) {
        const t0 = performance.now();
        await kernel.replace(echo(String(++v), { count: 0, blob: "" }));
        times.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 2));
      }
      return times;
    });
    swapped[0]?.push(q(b.lat, 0.5));
    swapped[1]?.push(q(b.lat, 0.99));
    swapped[2]?.push(q(b.lat, 1));
    swapped[3]?.push(q(b.lat, 0.999));
    durations.push(...b.swaps);
    bad += a.bad + b.bad;
    calls += a.lat.length + b.lat.length;
  }
  // Floor: the same state through JSON and AES-GCM both ways, no kernel.
  const crypter = new AesGcmCrypter(KEY);
  const floors: number[] = [];
  for (let i = -5; i < 30; i++) {
    const t0 = performance.now();
    const sealed = await crypter.encrypt(new TextEncoder().encode(JSON.stringify({ count: 1, blob })));
    JSON.parse(new TextDecoder().decode(await crypter.decrypt(sealed)));
    if (i >= 0) floors.push(performance.now() - t0);
  }
  // Second floor, with a store: the same save + load through it, no kernel (what the swap waits for on disk).
  const storeFloors: number[] = [];
  for (let i = -5; store !== undefined && i < 30; i++) {
    const t0 = performance.now();
    await store.save("floor", { count: 1, blob }, { version: "1" });
    await store.load("floor");
    if (i >= 0) storeFloors.push(performance.now() - t0);
  }
  const f = (n: number): string => n.toFixed(n < 10 ? 3 : 1);
  process.stdout.write(
    `${label.padEnd(34)} no swap p50 ${f(median(base[0] ?? []))} p99 ${f(median(base[1] ?? []))} p99.9 ${f(median(base[3] ?? []))} max ${f(median(base[2] ?? []))} µs | ` +
      `swapping p50 ${f(median(swapped[0] ?? []))} p99 ${f(median(swapped[1] ?? []))} p99.9 ${f(median(swapped[3] ?? []))} max ${f(median(swapped[2] ?? []))} µs | ` +
      `added p99 ${f((median(swapped[1] ?? []) - median(base[1] ?? [])) / 1000)} ms, p99.9 ${f((median(swapped[3] ?? []) - median(base[3] ?? [])) / 1000)} ms\n` +
      `${"".padEnd(34)} ${durations.length} swaps, duration p50 ${f(median(durations))} ms p99 ${f(q(durations, 0.99))} ms; ` +
      `floor encrypt+decrypt p50 ${f(median(floors))} ms (x${(median(durations) / median(floors)).toFixed(1)}); ` +
      (store === undefined
        ? ""
        : `store save+load alone p50 ${f(median(storeFloors))} ms (x${(median(durations) / median(storeFloors)).toFixed(1)}); `) +
      `${calls} calls, ${bad} not answered 0\n`,
  );
  await kernel.close({ stopAll: true });
}

const dir = await mkdtemp(join(tmpdir(), "mk-swap-bench-"));
try {
  process.stdout.write(
    `hot swap under load: ${CONCURRENCY} callers (half send, half push), ${WINDOW_MS} ms windows, medians of ${ROUNDS} rounds\n`,
  );
  for (const size of [1024, 1024 * 1024]) {
    const kib = size >= 1024 * 1024 ? "1 MiB" : "1 KiB";
    await scenario(`${kib}, no store (structuredClone)`, size, undefined);
    // A fresh directory each time: register would otherwise import the previous scenario's saved state.
    const own = await mkdtemp(join(dir, "s-"));
    await scenario(`${kib}, FileStateStore (AES-GCM, fsync)`, size, new FileStateStore(own, new AesGcmCrypter(KEY)));
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
