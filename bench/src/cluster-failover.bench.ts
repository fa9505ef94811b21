// Failover and handover of a service with state between two node processes (real nats-server
// with JetStream: leases and states in KV). A caller in this process keeps calls in flight
// (4 at a time, deadline 20 s) while the owner is SIGKILLed (failover: kill -> first call served
// by the new owner, and how many calls got 503) or SIGTERMed (handover: SIGTERM -> first call
// served by the new owner); the dead node is started again each round as the next standby.
// Prints p50/p99/max. No peer here: no other Node framework offers fenced single-owner failover
// to compare with; the goal (issue 19) is failover <= lease + 2 s, handover <= 100 ms + one save.
//
//   pnpm build && KILLS=20 HANDOVERS=10 LEASE_MS=3000 pnpm bench cluster-failover
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { joinCluster } from "@mk/cluster";
import { Kernel, type Reply } from "@mk/core";
import { createLogger } from "@mk/logger";
import { startNats } from "@mk/test-servers";

const KILLS = Number(process.env["KILLS"] ?? 20);
const HANDOVERS = Number(process.env["HANDOVERS"] ?? 10);
const LEASE_MS = Number(process.env["LEASE_MS"] ?? 3000);
const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const nats = await startNats({ jetstream: true });
process.on("exit", () => void nats.kill("SIGKILL"));
const bucket = `bench-ledger-${process.pid}`;
const caller = new Kernel({ logger: createLogger({ level: "error" }), checkpointIntervalMs: 0 });
const cluster = await joinCluster(caller, {
  servers: nats.url,
  node: "caller",
  logger: createLogger({ level: "error" }),
});
const children = new Map<string, ChildProcess>();
/** The handover's save (seal + KV write) on each SIGTERMed owner, as it reported it. */
const saves: number[] = [];
/** A handover's steps as the nodes logged them (wall clock, ms): the owner released, the heir took, the heir serves. */
type Step = "released" | "taken" | "serving";
const steps: { node: string; step: Step; at: number }[] = [];
/** Per handover: SIGTERM -> released, released -> taken, taken -> serving, serving -> first call answered. */
const stages: Record<"release" | "notice" | "start" | "call", number[]> = {
  release: [],
  notice: [],
  start: [],
  call: [],
};
// Never leave a node behind, whatever happens to this run.
process.on("exit", () => {
  for (const child of children.values())
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

function startNode(node: string): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", join(here, "fixtures", "ledger-node.ts")], {
    env: { ...process.env, MK_NODE: JSON.stringify({ servers: nats.url, node, bucket, leaseMs: LEASE_MS }) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  children.set(node, child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${node} did not join within 60 s`)), 60_000);
    child.on("message", (message: { ready?: string; handoverSaveMs?: number; step?: Step; at?: number }) => {
      if (message.handoverSaveMs !== undefined) {
        saves.push(message.handoverSaveMs);
        return;
      }
      if (message.step !== undefined && message.at !== undefined) {
        steps.push({ node, step: message.step, at: message.at });
        return;
      }
      clearTimeout(timer);
      resolve();
    });
    child.on("exit", () => clearTimeout(timer));
  });
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const roleOf = (node: string): string | undefined =>
  cluster.services().find((s) => s.node === node && s.name === "ledger")?.role;
const owner = (): string | undefined =>
  cluster.services().find((s) => s.name === "ledger" && s.role === "active" && s.status === "running")?.node;

// Load: 4 calls in flight, all the time.
interface Answer {
  reply: Reply;
  at: number;
}
const answers: Answer[] = [];
let loading = true;
const worker = async (): Promise<void> => {
  while (loading) {
    const reply = await caller.send({ to: "ledger", from: "bench", type: "add", timeoutMs: 20_000 });
    answers.push({ reply, at: performance.now() });
    if (reply.code !== 0) await sleep(10);
  }
};

await startNode("node-1");
await until("node-1 active", () => owner() === "node-1");
await startNode("node-2");
await until("node-2 on standby", () => roleOf("node-2") === "standby");
const workers = Promise.all(Array.from({ length: 4 }, worker));

async function round(signal: "SIGKILL" | "SIGTERM"): Promise<{ ms: number; refused: number }> {
  const from = owner() as string;
  const to = from === "node-1" ? "node-2" : "node-1";
  await until("calls before", () => answers.length > 0);
  const mark = answers.length;
  const child = children.get(from) as ChildProcess;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const t0 = performance.now();
  child.kill(signal);
  await until(`${to} serving`, () =>
    answers.slice(mark).some((a) => a.at > t0 && a.reply.code === 0 && (a.reply.data as { node: string }).node === to),
  );
  const first = answers
    .slice(mark)
    .find((a) => a.at > t0 && a.reply.code === 0 && (a.reply.data as { node: string }).node === to) as Answer;
  const refused = answers.slice(mark).filter((a) => a.at <= first.at && a.reply.code !== 0).length;
  if (signal === "SIGTERM") {
    const wall = (at: number): number => performance.timeOrigin + at;
    const at = (node: string, step: Step): number | undefined =>
      steps.find((s) => s.node === node && s.step === step && s.at >= wall(t0))?.at;
    const released = at(from, "released");
    const taken = at(to, "taken");
    const serving = at(to, "serving");
    if (released !== undefined && taken !== undefined && serving !== undefined) {
      stages.release.push(released - wall(t0));
      stages.notice.push(taken - released);
      stages.start.push(serving - taken);
      stages.call.push(wall(first.at) - serving);
    }
  }
  if (process.env["MK_BENCH_LOG"] === "1") {
    const wall = (at: number): string => new Date(performance.timeOrigin + at).toISOString();
    console.error(`${signal} of ${from} at ${wall(t0)}; first call served by ${to} at ${wall(first.at)}`);
  }
  await exited;
  await until(`${from} out of the view`, () => !cluster.nodes().includes(from));
  await startNode(from);
  await until(`${from} on standby`, () => roleOf(from) === "standby");
  return { ms: first.at - t0, refused };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};

const failovers: number[] = [];
const refusedAll: number[] = [];
for (let i = 0; i < KILLS; i++) {
  const { ms, refused } = await round("SIGKILL");
  failovers.push(ms);
  refusedAll.push(refused);
}
const handovers: number[] = [];
const handoverRefused: number[] = [];
for (let i = 0; i < HANDOVERS; i++) {
  const { ms, refused } = await round("SIGTERM");
  handovers.push(ms);
  handoverRefused.push(refused);
}
loading = false;
await workers;

const codes: Record<number, number> = {};
for (const a of answers) codes[a.reply.code] = (codes[a.reply.code] ?? 0) + 1;
const counts = answers.filter((a) => a.reply.code === 0).map((a) => (a.reply.data as { count: number }).count);
console.log(
  `lease ${LEASE_MS} ms; ${answers.length} calls, codes ${JSON.stringify(codes)}; counts served twice: ${counts.length - new Set(counts).size}`,
);
if (failovers.length > 0) {
  console.log(
    `failover (SIGKILL -> first call served by the new owner) over ${failovers.length} kills: p50 ${pct(failovers, 50).toFixed(0)} ms, p99 ${pct(failovers, 99).toFixed(0)} ms, max ${Math.max(...failovers).toFixed(0)} ms; calls answered 503 per failover: p50 ${pct(refusedAll, 50)}, max ${Math.max(...refusedAll)}`,
  );
}
if (handovers.length > 0) {
  console.log(
    `handover (SIGTERM -> first call served by the new owner) over ${handovers.length}: p50 ${pct(handovers, 50).toFixed(0)} ms, p99 ${pct(handovers, 99).toFixed(0)} ms, max ${Math.max(...handovers).toFixed(0)} ms; calls not answered 0: ${handoverRefused.reduce((a, b) => a + b, 0)}`,
  );
  if (stages.release.length > 0) {
    const show = (xs: number[]): string => `p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms`;
    console.log(`  SIGTERM -> lease released (drain, save, release): ${show(stages.release)}`);
    console.log(`  released -> taken by the heir (it notices, compare-and-set): ${show(stages.notice)}`);
    console.log(`  taken -> serving (state loaded, service started): ${show(stages.start)}`);
    console.log(`  serving -> first call answered (the caller learns, calls; one save): ${show(stages.call)}`);
  }
  const measured = saves.filter((ms) => Number.isFinite(ms));
  if (measured.length > 0) {
    console.log(
      `handover save (the owner's last save: seal + KV write) over ${measured.length}: p50 ${pct(measured, 50).toFixed(1)} ms, p99 ${pct(measured, 99).toFixed(1)} ms`,
    );
  }
}
for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
await Promise.all(
  Array.from(children.values(), (c) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => c.once("exit", resolve)),
  ),
);
await cluster.leave();
await caller.close();
await nats.stop();
