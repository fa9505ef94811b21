// A seeded, bounded soak of the single-owner guarantee (issue 19): random SIGKILL, SIGSTOP past the
// lease then SIGCONT, and SIGTERM handover events over 3 ledger node processes, with calls between
// them. Checked: no epoch was ever taken by two nodes (each "holds the lease ... epoch N" line is
// unique per epoch), epochs only grow, no count was served twice (two owners at once would fork
// the ledger), and the stored state's epoch is the last lease holder's. SOAK_EVENTS (default 9)
// and SOAK_SEED set the run; the counts are printed.
import { AesGcmCrypter } from "@mk/crypto";
import { Kernel, type Reply } from "@mk/core";
import { NatsKvStateStore } from "@mk/store-nats";
import { startNats } from "@mk/test-servers";
import { describe, expect, it } from "vitest";
import { joinCluster } from "../src/index.ts";
import { captureLogger, type NodeProcess, startNode, waitFor } from "./helpers.ts";

const EVENTS = Math.min(Number(process.env["SOAK_EVENTS"] ?? 9), 500);
const SEED = Number(process.env["SOAK_SEED"] ?? 19);
const LEASE_MS = 1000;

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("soak: random kill/pause/handover over 3 nodes", () => {
  it(`${EVENTS} events (seed ${SEED}): one owner per epoch, no count served twice`, { timeout: 900_000 }, async () => {
    const nats = await startNats({ jetstream: true });
    const bucket = `soak-${process.pid}`;
    const log = captureLogger();
    const kernel = new Kernel({ logger: log.logger, checkpointIntervalMs: 0 });
    const cluster = await joinCluster(kernel, { servers: nats.url, node: "caller", logger: log.logger });
    const names = ["node-1", "node-2", "node-3"];
    const live = new Map<string, NodeProcess>();
    /** Output of every process that ever ran (dead ones included). */
    const outputs: (() => string)[] = [];
    const start = async (node: string): Promise<void> => {
      const p = await startNode({ servers: nats.url, node, bucket, leaseMs: LEASE_MS }, "stateful-node.ts");
      live.set(node, p);
      outputs.push(() => p.output());
    };
    const owner = (): string | undefined =>
      cluster.services().find((s) => s.name === "ledger" && s.role === "active" && s.status === "running")?.node;
    const replies: Reply[] = [];
    const calls = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        replies.push(await kernel.send({ to: "ledger", from: "soak", type: "add", timeoutMs: 15_000 }));
      }
    };
    const done: Record<string, number> = { kill: 0, pause: 0, handover: 0 };
    try {
      for (const node of names) await start(node);
      await waitFor("an owner", () => owner() !== undefined, 30_000);
      const next = random(SEED);
      for (let e = 0; e < EVENTS; e++) {
        await waitFor("an owner serving", () => owner() !== undefined, 60_000);
        await calls(3);
        const kind = (["kill", "pause", "handover"] as const)[Math.floor(next() * 3)] as "kill" | "pause" | "handover";
        // Mostly the owner (that is where it matters), sometimes a standby.
        const target = next() < 0.75 ? (owner() as string) : (names[Math.floor(next() * 3)] as string);
        const p = live.get(target) as NodeProcess;
        if (kind === "kill") {
          await p.kill();
          live.delete(target);
          await start(target);
        } else if (kind === "pause") {
          p.child.kill("SIGSTOP");
          await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 300 + Math.floor(next() * 700)));
          p.child.kill("SIGCONT");
        } else {
          p.child.kill("SIGTERM");
          await p.exited;
          live.delete(target);
          await start(target);
        }
        done[kind] = (done[kind] ?? 0) + 1;
      }
      await waitFor("an owner serving at the end", () => owner() !== undefined, 60_000);
      await calls(3);

      // One taker per epoch, and epochs only grow.
      const takes: { node: string; epoch: number }[] = [];
      for (const output of outputs) {
        for (const m of output().matchAll(/node (\S+) holds the lease of ledger, epoch (\d+)/g)) {
          takes.push({ node: m[1] as string, epoch: Number(m[2]) });
        }
      }
      const epochs = takes.map((t) => t.epoch);
      expect(new Set(epochs).size).toBe(epochs.length);
      const ok = replies.filter((r) => r.code === 0);
      const counts = ok.map((r) => (r.data as { count: number }).count);
      expect(new Set(counts).size).toBe(counts.length);
      const codes: Record<number, number> = {};
      for (const r of replies) codes[r.code] = (codes[r.code] ?? 0) + 1;
      // Calls between events are sequential: 503 only if the owner died with one in flight; never 404.
      expect(codes[404]).toBeUndefined();
      const store = new NatsKvStateStore({
        servers: nats.url,
        crypter: new AesGcmCrypter("0123456789abcdef0123456789abcdef"),
        bucket,
      });
      const stored = await store.load("ledger");
      await store.close();
      expect(stored?.epoch).toBe(Math.max(...epochs));
      expect((stored?.state as { count: number } | undefined)?.count).toBe(Math.max(...counts));
      const standDowns = outputs.reduce((n, o) => n + (o().match(/stands down as owner/g)?.length ?? 0), 0);
      console.log(
        `soak seed ${SEED}: events ${JSON.stringify(done)}, lease takes ${takes.length} (epochs 1..${Math.max(...epochs)}, each once), stand-downs ${standDowns}, calls ${replies.length} codes ${JSON.stringify(codes)}, counts served twice 0, stored epoch ${stored?.epoch} = last holder's`,
      );
    } finally {
      for (const p of live.values()) {
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGCONT");
      }
      await Promise.all(Array.from(live.values(), (p) => p.kill()));
      await cluster.leave();
      await kernel.close();
      await nats.stop();
    }
  });
});
