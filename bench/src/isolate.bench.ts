// Isolated services: a call to an @mk/isolate thread service through
// kernel.send, beside its floor (a bare worker_threads port ping-pong of the
// same event, one postMessage per call each way) and Piscina 5's run() of the
// same echo; sequential (one round trip at a time: latency) and 100 in
// flight (throughput: mk batches messages per turn). Also: a crash under
// load (how soon held calls get 503, and the restart), start of an
// isolated service to its first answer vs a bare Worker's "online", and the
// kernel's memory after many hot swaps with new code (fresh isolate per
// version, so no ESM module cache grows in the kernel).
//
//   pnpm build && pnpm bench isolate      (SEQ=30000 FLIGHT_ROUNDS=300 ROUNDS=5 SWAPS=1000 STARTS=10)
import { Worker } from "node:worker_threads";
import { Kernel, type Event, type Reply } from "@mk/core";
import { isolated } from "@mk/isolate";
import { createLogger } from "@mk/logger";
import { Piscina } from "piscina";

const SEQ = Number(process.env.SEQ ?? 30_000);
const FLIGHT = 100;
const FLIGHT_ROUNDS = Number(process.env.FLIGHT_ROUNDS ?? 300);
const SWAPS = Number(process.env.SWAPS ?? 1000);
const STARTS = Number(process.env.STARTS ?? 10);
const echoModule = new URL("./fixtures/echo-isolated.mjs", import.meta.url);
const piscinaModule = new URL("./fixtures/echo-piscina.mjs", import.meta.url);
const rawModule = new URL("./fixtures/echo-raw.mjs", import.meta.url);
const event: Event = { to: "echo", from: "bench", type: "echo", content: { n: 1, text: "hello" } };

type Call = () => Promise<unknown>;

async function sequential(call: Call, n: number): Promise<number> {
  for (let i = 0; i < 500; i++) await call();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await call();
  return n / ((performance.now() - t0) / 1000);
}

async function inFlight(call: Call, rounds: number): Promise<number> {
  const wave = (): Promise<unknown[]> => Promise.all(Array.from({ length: FLIGHT }, call));
  for (let i = 0; i < 20; i++) await wave();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await wave();
  return (rounds * FLIGHT) / ((performance.now() - t0) / 1000);
}

function rawPort(): { call: Call; close: () => Promise<number> } {
  const worker = new Worker(rawModule, { execArgv: [] });
  const waiting = new Map<number, (reply: Reply) => void>();
  let next = 0;
  worker.on("message", ([id, reply]: [number, Reply]) => {
    const resolve = waiting.get(id);
    waiting.delete(id);
    resolve?.(reply);
  });
  return {
    call: () =>
      new Promise<Reply>((resolve) => {
        const id = next++;
        waiting.set(id, resolve);
        worker.postMessage([id, event]);
      }),
    close: () => worker.terminate(),
  };
}

const quietLogger = createLogger({ level: "error", sinks: [() => undefined] });
const fmt = (n: number): string => `${(n / 1000).toFixed(1)} k/s`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

// 1. Throughput: sequential and 100 in flight.
const kernel = new Kernel({ logger: quietLogger, checkpointIntervalMs: 0 });
await kernel.register(isolated({ name: "echo", module: echoModule, mode: "thread" }));
await kernel.start("echo");
const mk: Call = () => kernel.send(event);
const raw = rawPort();
const pool = new Piscina({ filename: piscinaModule.href, minThreads: 1, maxThreads: 1, idleTimeout: 60_000 });
const piscina: Call = () => pool.run(event);

// Interleaved rounds, best of each: on a shared machine a burst of other work then hits all three alike.
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const contenders = [
  ["raw port", raw.call],
  ["mk kernel.send", mk],
  ["piscina run", piscina],
] as const;
const results: Record<string, { seq: number; flight: number }> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, call] of contenders) {
    const seq = await sequential(call, Math.ceil(SEQ / ROUNDS));
    const flight = await inFlight(call, Math.ceil(FLIGHT_ROUNDS / ROUNDS));
    const best = results[name];
    results[name] = { seq: Math.max(best?.seq ?? 0, seq), flight: Math.max(best?.flight ?? 0, flight) };
  }
}
const r = (name: string): { seq: number; flight: number } => results[name] as { seq: number; flight: number };
console.log(
  `echo round trips, one worker thread each, best of ${ROUNDS} interleaved rounds (busy machine: compare ratios, not absolutes)`,
);
console.log(`                     sequential        100 in flight`);
for (const name of Object.keys(results)) {
  console.log(`  ${name.padEnd(18)} ${fmt(r(name).seq).padStart(12)}     ${fmt(r(name).flight).padStart(12)}`);
}
console.log(
  `  mk / raw:     sequential ${ratio(r("mk kernel.send").seq, r("raw port").seq)} (goal >= 0.8x), 100 in flight ${ratio(r("mk kernel.send").flight, r("raw port").flight)} (goal >= 1.5x)`,
);
console.log(
  `  mk / piscina: sequential ${ratio(r("mk kernel.send").seq, r("piscina run").seq)} (goal >= 1x), 100 in flight ${ratio(r("mk kernel.send").flight, r("piscina run").flight)} (goal >= 3x)`,
);
await raw.close();
await pool.destroy();
await kernel.close({ stopAll: true });

// 2. Start to first answer vs a bare Worker's "online". Every worker here starts with execArgv [] (as
// isolates do): inheriting this process's `--import tsx` would load tsx in the worker first.
const starts: number[] = [];
const onlines: number[] = [];
const firsts: number[] = [];
for (let i = 0; i < STARTS; i++) {
  const k = new Kernel({ logger: quietLogger, checkpointIntervalMs: 0 });
  await k.register(isolated({ name: "echo", module: echoModule }));
  const t0 = performance.now();
  await k.start("echo");
  await k.send(event);
  starts.push(performance.now() - t0);
  await k.close({ stopAll: true });
  const t1 = performance.now();
  const w = new Worker(rawModule, { execArgv: [] });
  await new Promise((resolve) => w.once("online", resolve));
  onlines.push(performance.now() - t1);
  // A fairer floor: the bare Worker's own first answer (its module loaded, one round trip).
  const answered = new Promise((resolve) => w.once("message", resolve));
  w.postMessage([0, event]);
  await answered;
  firsts.push(performance.now() - t1);
  await w.terminate();
}
console.log(
  `start to first answer (median of ${STARTS}): isolated thread service ${median(starts).toFixed(1)} ms, bare Worker "online" ${median(onlines).toFixed(1)} ms (${ratio(median(starts), median(onlines))}), bare Worker's first answer ${median(firsts).toFixed(1)} ms (${ratio(median(starts), median(firsts))})`,
);

// 3. A crash under load: how soon the calls the dead isolate held are answered (503), and the restart.
const crashKernel = new Kernel({
  logger: quietLogger,
  checkpointIntervalMs: 0,
  supervision: { backoff: { initialMs: 10, maxMs: 20 } },
});
await crashKernel.register(isolated({ name: "echo", module: echoModule }));
await crashKernel.start("echo");
const restarted = new Promise<number>((resolve) => crashKernel.on("restart", () => resolve(performance.now())));
const parked = Array.from({ length: FLIGHT }, () =>
  crashKernel.send({ ...event, type: "park", timeoutMs: 60_000 }).then((reply) => ({ reply, at: performance.now() })),
);
await new Promise((resolve) => setTimeout(resolve, 50));
const crashAt = performance.now();
void crashKernel.send({ ...event, type: "exit", timeoutMs: 60_000 });
const held = await Promise.all(parked);
const lastAnswer = Math.max(...held.map((h) => h.at)) - crashAt;
const restartMs = (await restarted) - crashAt;
const after = await crashKernel.send(event);
console.log(
  `crash under load (thread exits with ${FLIGHT} calls in flight, deadline 60 s): all ${held.filter((h) => h.reply.code === 503).length} answered 503 within ${lastAnswer.toFixed(1)} ms; restarted after ${restartMs.toFixed(1)} ms; next call code ${after.code}`,
);
await crashKernel.close({ stopAll: true });

// 4. Memory after many hot swaps with new code.
const swapKernel = new Kernel({ logger: quietLogger, checkpointIntervalMs: 0 });
await swapKernel.register(isolated({ name: "echo", module: echoModule }));
await swapKernel.start("echo");
const sample = (): { rss: number; heap: number } => {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
};
const warm = Math.min(50, SWAPS);
for (let i = 0; i < warm; i++)
  await swapKernel.replace(isolated({ name: "echo", module: echoModule, version: `w${i}` }));
const before = sample();
const t0 = performance.now();
const marks: string[] = [];
for (let i = 1; i <= SWAPS; i++) {
  // A new URL per version, as new code would have: in one realm each would stay in the ESM cache for good.
  const module = new URL(`${echoModule.href}?v=${i}`);
  await swapKernel.replace(isolated({ name: "echo", module, version: String(i) }));
  if (i % Math.max(1, Math.floor(SWAPS / 4)) === 0) {
    const m = sample();
    marks.push(`${i}: rss ${mb(m.rss)} heap ${mb(m.heap)}`);
  }
}
const elapsed = performance.now() - t0;
const afterSwaps = sample();
const last = await swapKernel.send(event);
console.log(
  `${SWAPS} hot swaps with new code in ${(elapsed / 1000).toFixed(1)} s (${(elapsed / SWAPS).toFixed(1)} ms each), last reply code ${last.code}`,
);
console.log(
  `  kernel memory after ${warm} warm-up swaps: rss ${mb(before.rss)} heap ${mb(before.heap)}; after ${SWAPS} more: rss ${mb(afterSwaps.rss)} (${afterSwaps.rss >= before.rss ? "+" : ""}${mb(afterSwaps.rss - before.rss)}) heap ${mb(afterSwaps.heap)} (${afterSwaps.heap >= before.heap ? "+" : ""}${mb(afterSwaps.heap - before.heap)})`,
);
console.log(`  along the way: ${marks.join("; ")}`);
await swapKernel.close({ stopAll: true });
