// Calls between two nodes through one local nats-server (started here): mk's
// remote kernel.send and kernel.push (deadlines on, as always) beside raw
// @nats-io/transport-node request-reply with the same payload, and Moleculer
// 0.15 with its NATS transporter (nats 2.x client) calling an echo action on a
// second broker (with and without a request timeout). Caller and responder
// of every subject live in this one process, each with its own connection.
// Sequential (one awaited call at a time) and 100 in flight; calls/s and
// per-call p50/p99, and the CPU time this process spent per call (both ends), which a busy machine disturbs less than wall time.
// Medians over a few rounds.
//
//   pnpm build && pnpm bench cluster
import { joinCluster } from "@mk/cluster";
import { Kernel, type Event, type Reply } from "@mk/core";
import { createLogger } from "@mk/logger";
import { startNats } from "@mk/test-servers";
import { connect } from "@nats-io/transport-node";
import { type BrokerOptions, ServiceBroker } from "moleculer";

const ROUNDS = Number(process.env["ROUNDS"] ?? 3);
const SEQ_CALLS = Number(process.env["SEQ_CALLS"] ?? 3000);
const C100_CALLS = Number(process.env["C100_CALLS"] ?? 30_000);

type Call = () => Promise<unknown>;

const payload = { a: 1, b: "hello" };
const quiet = (): ReturnType<typeof createLogger> => createLogger({ level: "warn", sinks: [() => undefined] });

const nats = await startNats();
const closers: (() => Promise<void>)[] = [];

// mk: node-1 runs echo, node-2 calls it.
const server = new Kernel({ logger: quiet(), checkpointIntervalMs: 0 });
await server.register({ name: "echo", handle: (e: Event): Reply => ({ code: 0, message: "ok", data: e.content }) });
await server.startAll();
const serverNode = await joinCluster(server, { servers: nats.url, node: "node-1", logger: quiet() });
const client = new Kernel({ logger: quiet(), checkpointIntervalMs: 0 });
const clientNode = await joinCluster(client, { servers: nats.url, node: "node-2", logger: quiet() });
closers.push(async () => {
  await clientNode.leave();
  await serverNode.leave();
  await client.close();
  await server.close({ stopAll: true });
});
const event: Event = { to: "echo", from: "bench", type: "echo", content: payload, timeoutMs: 5000 };

// Raw request-reply, JSON payload both ways.
const responder = await connect({ servers: nats.url });
const requester = await connect({ servers: nats.url });
responder.subscribe("bench.echo", {
  callback: (_error, msg) => {
    msg.respond(JSON.stringify({ code: 0, message: "ok", data: msg.json() }));
  },
});
await responder.flush();
const body = JSON.stringify(payload);
closers.push(async () => {
  await requester.close();
  await responder.close();
});

// Moleculer: broker "m1" runs echo, broker "m2" calls it, NATS transporter.
async function moleculer(requestTimeout: number, suffix: string): Promise<ServiceBroker> {
  const transporter = { type: "NATS" as const, options: { url: nats.url } };
  const common: BrokerOptions = {
    logger: false,
    metrics: false,
    tracing: false,
    transporter,
    requestTimeout,
    namespace: suffix,
  };
  const m1 = new ServiceBroker({ ...common, nodeID: `m1-${suffix}` });
  m1.createService({
    name: "echo",
    actions: { echo: (ctx: { params: unknown }) => ({ code: 0, message: "ok", data: ctx.params }) },
  });
  const m2 = new ServiceBroker({ ...common, nodeID: `m2-${suffix}` });
  await Promise.all([m1.start(), m2.start()]);
  await m2.waitForServices(["echo"], 10_000);
  closers.push(async () => {
    await m2.stop();
    await m1.stop();
  });
  return m2;
}
const mol = await moleculer(0, "a");
const molTimeout = await moleculer(5000, "b");

const subjects: [string, Call][] = [
  ["raw nats request-reply (timeout 5000)", () => requester.request("bench.echo", body, { timeout: 5000 })],
  ["Moleculer call over NATS (no timeout)", () => mol.call("echo.echo", payload)],
  ["Moleculer call over NATS, requestTimeout 5000", () => molTimeout.call("echo.echo", payload)],
  ["mk remote kernel.send (deadline 5000)", () => client.send(event)],
  ["mk remote kernel.push (deadline 5000)", () => client.push(event)],
];

// Check every subject answers what it should before measuring.
for (const [name, call] of subjects) {
  const reply = (await call()) as { code?: number; data?: unknown; json?: () => unknown };
  const got = reply.json === undefined ? reply : reply.json();
  if ((got as Reply).code !== 0) throw new Error(`${name} answered ${JSON.stringify(got)}`);
}

/** CPU time of this process (both ends of every subject live here) per call, µs: steadier than wall time on a busy machine. */
const cpu = new Map<string, number[]>();

async function throughput(call: Call, n: number, concurrency: number, cpuOf?: string): Promise<number> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      await call();
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const rate = n / (Number(process.hrtime.bigint() - t0) / 1e9);
  if (cpuOf !== undefined) {
    const used = process.cpuUsage(cpu0);
    (cpu.get(cpuOf) ?? cpu.set(cpuOf, []).get(cpuOf))?.push((used.user + used.system) / n);
  }
  return rate;
}

async function latencies(call: Call, n: number, concurrency: number): Promise<{ p50: number; p99: number }> {
  const samples = new Float64Array(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      await call();
      samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  samples.sort();
  return { p50: samples[Math.floor(n * 0.5)] ?? 0, p99: samples[Math.floor(n * 0.99)] ?? 0 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

for (const [, call] of subjects) {
  await throughput(call, 1000, 1);
  await throughput(call, 5000, 100);
}
const seq = new Map<string, number[]>();
const c100 = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, call] of subjects) {
    (seq.get(name) ?? seq.set(name, []).get(name))?.push(await throughput(call, SEQ_CALLS, 1, `${name} seq`));
    (c100.get(name) ?? c100.set(name, []).get(name))?.push(await throughput(call, C100_CALLS, 100, name));
  }
}
const results = new Map<
  string,
  {
    seq: number;
    c100: number;
    cpu: number;
    cpuSeq: number;
    lat1: { p50: number; p99: number };
    lat100: { p50: number; p99: number };
  }
>();
for (const [name, call] of subjects) {
  results.set(name, {
    seq: median(seq.get(name) ?? []),
    c100: median(c100.get(name) ?? []),
    cpu: median(cpu.get(name) ?? []),
    cpuSeq: median(cpu.get(`${name} seq`) ?? []),
    lat1: await latencies(call, SEQ_CALLS, 1),
    lat100: await latencies(call, C100_CALLS, 100),
  });
}

const raw = results.get(subjects[0]?.[0] ?? "");
const molecular = results.get(subjects[1]?.[0] ?? "");
const fmt = (n: number): string => `${(n / 1e3).toFixed(1)} k/s`;
process.stdout.write(
  `\nremote request/reply through one nats-server, medians of ${ROUNDS} rounds (seq ${SEQ_CALLS} calls, c100 ${C100_CALLS} calls); latency in µs\n`,
);
process.stdout.write(
  `${"subject".padEnd(48)} ${"mode".padEnd(5)} ${"calls/s".padStart(10)} ${"p50".padStart(8)} ${"p99".padStart(8)} ${"x Moleculer".padStart(12)} ${"x raw".padStart(6)} ${"cpu µs/call".padStart(12)}\n`,
);
for (const [name, r] of results) {
  for (const mode of ["seq", "c100"] as const) {
    const lat = mode === "seq" ? r.lat1 : r.lat100;
    process.stdout.write(
      `${(mode === "seq" ? name : "").padEnd(48)} ${mode.padEnd(5)} ${fmt(r[mode]).padStart(10)} ${lat.p50.toFixed(0).padStart(8)} ${lat.p99.toFixed(0).padStart(8)} ${(molecular === undefined ? 0 : r[mode] / molecular[mode]).toFixed(2).padStart(12)} ${(raw === undefined ? 0 : r[mode] / raw[mode]).toFixed(2).padStart(6)} ${(mode === "c100" ? r.cpu : r.cpuSeq).toFixed(1).padStart(12)}\n`,
    );
  }
}
const send = results.get("mk remote kernel.send (deadline 5000)");
const push = results.get("mk remote kernel.push (deadline 5000)");
const molT = results.get("Moleculer call over NATS, requestTimeout 5000");
if (send !== undefined && push !== undefined && raw !== undefined && molT !== undefined) {
  process.stdout.write(
    `\ngoals (deadlines on): seq >= 1x Moleculer and >= 0.9x raw: send ${(send.seq / molT.seq).toFixed(2)}x / ${(send.seq / raw.seq).toFixed(2)}x, push ${(push.seq / molT.seq).toFixed(2)}x / ${(push.seq / raw.seq).toFixed(2)}x; ` +
      `c100 >= 1.5x Moleculer: send ${(send.c100 / molT.c100).toFixed(2)}x, push ${(push.c100 / molT.c100).toFixed(2)}x\n`,
  );
}
for (const close of closers.reverse()) await close();
await nats.stop();
