// Request/reply in one process: mk's kernel.send and kernel.push (deadlines on,
// as always) beside the floor (a direct handler call), a Node EventEmitter with
// a Promise reply, and Moleculer 0.15's local broker.call with and without a
// request timeout. Sequential (one awaited call at a time) and 100 in flight
// (100 workers awaiting calls back to back). Medians over several rounds.
//
//   pnpm build && pnpm bench bus
import { EventEmitter } from "node:events";
import { Kernel, type Event, type Reply, type Service } from "@mk/core";
import { createLogger } from "@mk/logger";
import { bench, run } from "mitata";
import { ServiceBroker } from "moleculer";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const SEQ_CALLS = Number(process.env.SEQ_CALLS ?? 300_000);
const C100_CALLS = Number(process.env.C100_CALLS ?? 300_000);
const LATENCY_CALLS = 50_000;

type Call = () => Promise<unknown>;

const payload = { a: 1, b: "hello" };
const event: Event = { to: "echo", from: "bench", type: "echo", content: payload };
const echo: Service = { name: "echo", handle: (e: Event): Reply => ({ code: 0, message: "ok", data: e.content }) };
const echoAsync: Service = {
  name: "echo-async",
  handle: async (e: Event): Promise<Reply> => ({ code: 0, message: "ok", data: e.content }),
};
const asyncEvent: Event = { ...event, to: "echo-async" };

async function subjects(): Promise<{ subjects: [string, Call][]; close: () => Promise<void> }> {
  const emitter = new EventEmitter();
  emitter.on("echo", (e: Event, resolve: (r: Reply) => void) => resolve({ code: 0, message: "ok", data: e.content }));

  const broker = new ServiceBroker({ logger: false, metrics: false, tracing: false });
  broker.createService({
    name: "echo",
    actions: { echo: (ctx: { params: unknown }) => ({ code: 0, message: "ok", data: ctx.params }) },
  });
  await broker.start();
  const brokerTimeout = new ServiceBroker({
    logger: false,
    metrics: false,
    tracing: false,
    requestTimeout: 5000,
    nodeID: "t",
  });
  brokerTimeout.createService({
    name: "echo",
    actions: { echo: (ctx: { params: unknown }) => ({ code: 0, message: "ok", data: ctx.params }) },
  });
  await brokerTimeout.start();

  // Logger level "warn" with a no-op sink: the kernel's info lines cost nothing in the loop.
  const kernel = new Kernel({
    logger: createLogger({ level: "warn", sinks: [() => undefined] }),
    checkpointIntervalMs: 0,
  });
  await kernel.register(echo);
  await kernel.register(echoAsync);
  await kernel.startAll();

  // The floor calls the handler the way a caller holding the service would: as a method.
  const svc = echo as Service & { handle(e: Event): Reply };
  return {
    subjects: [
      ["direct await svc.handle(evt) (floor)", async () => svc.handle(event)],
      ["EventEmitter + Promise reply", () => new Promise((resolve) => emitter.emit("echo", event, resolve))],
      ["Moleculer broker.call", () => broker.call("echo.echo", payload)],
      ["Moleculer broker.call, requestTimeout 5000", () => brokerTimeout.call("echo.echo", payload)],
      ["mk kernel.send (deadline 5000)", () => kernel.send(event)],
      ["mk kernel.send, async handler", () => kernel.send(asyncEvent)],
      ["mk kernel.push (deadline 5000)", () => kernel.push(event)],
      ["mk kernel.push, async handler", () => kernel.push(asyncEvent)],
    ],
    close: async () => {
      await kernel.close({ stopAll: true });
      await broker.stop();
      await brokerTimeout.stop();
    },
  };
}

// Each subject gets its own copy of the loops (new Function = new feedback
// vectors), so one subject's call site never turns megamorphic because of another's.
type Loop = (call: Call, n: number, proc: never) => Promise<number>;
const seqSource = `
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await call();
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);`;
const c100Source = `
  const per = n / 100;
  const worker = async () => { for (let i = 0; i < per; i++) await call(); };
  const t0 = process.hrtime.bigint();
  const all = [];
  for (let w = 0; w < 100; w++) all.push(worker());
  await Promise.all(all);
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);`;
const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => Loop;
const loops = (): { seq: Loop; c100: Loop } => ({
  seq: new AsyncFunction("call", "n", "process", seqSource),
  c100: new AsyncFunction("call", "n", "process", c100Source),
});

async function latencies(call: Call, concurrency: number): Promise<{ p50: number; p99: number }> {
  const samples = new Float64Array(LATENCY_CALLS);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < LATENCY_CALLS) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      await call();
      samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  samples.sort();
  return { p50: samples[Math.floor(LATENCY_CALLS * 0.5)] ?? 0, p99: samples[Math.floor(LATENCY_CALLS * 0.99)] ?? 0 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

const { subjects: list, close } = await subjects();
const results = new Map<
  string,
  { seq: number; c100: number; lat1: { p50: number; p99: number }; lat100: { p50: number; p99: number } }
>();
const loopsOf = new Map(list.map(([name]) => [name, loops()]));
const throughputSeq = (name: string, call: Call, n: number): Promise<number> =>
  (loopsOf.get(name) as { seq: Loop }).seq(call, n, process as never);
const throughputC100 = (name: string, call: Call, n: number): Promise<number> =>
  (loopsOf.get(name) as { c100: Loop }).c100(call, n, process as never);
for (const [name, call] of list) {
  // Warm up the JIT on this subject before measuring.
  await throughputSeq(name, call, 50_000);
  await throughputC100(name, call, 50_000);
}
const seqRuns = new Map<string, number[]>();
const c100Runs = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  // Interleave subjects within a round so machine noise spreads evenly.
  for (const [name, call] of list) {
    globalThis.gc?.();
    (seqRuns.get(name) ?? seqRuns.set(name, []).get(name))?.push(await throughputSeq(name, call, SEQ_CALLS));
    globalThis.gc?.();
    (c100Runs.get(name) ?? c100Runs.set(name, []).get(name))?.push(await throughputC100(name, call, C100_CALLS));
  }
}
for (const [name, call] of list) {
  results.set(name, {
    seq: median(seqRuns.get(name) ?? []),
    c100: median(c100Runs.get(name) ?? []),
    lat1: await latencies(call, 1),
    lat100: await latencies(call, 100),
  });
}

const baseline = results.get("Moleculer broker.call");
const floor = results.get("direct await svc.handle(evt) (floor)");
const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(0)} k/s`);
process.stdout.write(
  `\nrequest/reply, medians of ${ROUNDS} rounds (seq ${SEQ_CALLS} calls, c100 ${C100_CALLS} calls); latency in µs (hrtime per call adds ~0.1 µs)\n`,
);
process.stdout.write(
  `${"subject".padEnd(44)} ${"mode".padEnd(5)} ${"calls/s".padStart(11)} ${"ns/call".padStart(8)} ${"p50".padStart(7)} ${"p99".padStart(7)} ${"x Moleculer".padStart(12)} ${"x direct".padStart(9)}\n`,
);
for (const [name, r] of results) {
  for (const mode of ["seq", "c100"] as const) {
    const rate = r[mode];
    const lat = mode === "seq" ? r.lat1 : r.lat100;
    const vsMol = baseline === undefined ? 0 : rate / baseline[mode];
    const vsDirect = floor === undefined ? 0 : rate / floor[mode];
    process.stdout.write(
      `${(mode === "seq" ? name : "").padEnd(44)} ${mode.padEnd(5)} ${fmt(rate).padStart(11)} ${(1e9 / rate).toFixed(0).padStart(8)} ${lat.p50.toFixed(2).padStart(7)} ${lat.p99.toFixed(2).padStart(7)} ${vsMol.toFixed(2).padStart(12)} ${vsDirect.toFixed(3).padStart(9)}\n`,
    );
  }
}
const send = results.get("mk kernel.send (deadline 5000)");
const push = results.get("mk kernel.push (deadline 5000)");
if (send !== undefined && push !== undefined && baseline !== undefined) {
  process.stdout.write(
    `\ngoals: kernel.send >= 3x Moleculer call (seq ${(send.seq / baseline.seq).toFixed(2)}x, c100 ${(send.c100 / baseline.c100).toFixed(2)}x); ` +
      `kernel.push >= 1x (seq ${(push.seq / baseline.seq).toFixed(2)}x, c100 ${(push.c100 / baseline.c100).toFixed(2)}x)\n`,
  );
}

// mitata cross-check of the sequential case (includes mitata's own per-iteration cost).
if (process.env.MITATA !== "0") {
  for (const [name, call] of list) bench(name, call);
  await run({ format: "mitata" });
}
await close();
