// Versions of a service with state across the cluster (issue 19, its last behaviour), with a real
// nats-server (JetStream KV for the leases and the states) and real node processes: the owner's
// hot swap is saved under the new version at once, the standbys learn it, a standby with older
// code never takes over state saved by newer code (one clear line), and a standby hot-swapped to a
// new enough version takes over and continues from the state. Nothing here is timed.
import { AesGcmCrypter } from "@mk/crypto";
import { NatsKvStateStore } from "@mk/store-nats";
import { startNats } from "@mk/test-servers";
import { afterEach, describe, expect, it } from "vitest";
import type { Cluster, ClusterServiceInfo } from "../src/index.ts";
import { type CallerFixture, joinCaller, type NodeProcess, startNode, tearDown, waitFor } from "./helpers.ts";

const LEASE_MS = 3000;
const crypter = new AesGcmCrypter("0123456789abcdef0123456789abcdef");

type Fixture = CallerFixture & { bucket: string };

let current: Fixture | undefined;
let buckets = 0;

afterEach(async () => {
  const f = current;
  current = undefined;
  await tearDown(f);
}, 60_000);

/** A caller in this process (no store, no ledger) and ledger nodes at version 1.0.0: the first one owns it. */
async function setUp(names: string[]): Promise<Fixture> {
  const nats = await startNats({ jetstream: true });
  const bucket = `versions-${process.pid}-${buckets++}`;
  current = { ...(await joinCaller(nats)), bucket };
  const { nodes, cluster } = current;
  for (const [i, node] of names.entries()) {
    nodes.push(
      await startNode({ servers: nats.url, node, bucket, leaseMs: LEASE_MS, version: "1.0.0" }, "stateful-node.ts"),
    );
    const role = i === 0 ? "active" : "standby";
    await waitFor(`${node} ${role}`, () => ledgerOn(cluster, node)?.role === role, 30_000);
  }
  return current;
}

function ledgerOn(cluster: Cluster, node: string): ClusterServiceInfo | undefined {
  return cluster.services().find((s) => s.node === node && s.name === "ledger");
}

async function stored(f: Fixture): Promise<{ count: number; version: string | undefined; epoch: number | undefined }> {
  const store = new NatsKvStateStore({ servers: f.nats.url, crypter, bucket: f.bucket });
  try {
    const loaded = await store.load("ledger");
    return {
      count: (loaded?.state as { count: number } | undefined)?.count ?? -1,
      version: loaded?.version,
      epoch: loaded?.epoch,
    };
  } finally {
    await store.close();
  }
}

interface Served {
  node: string;
  count: number;
  version: string;
}

async function add(f: Fixture, timeoutMs = 15_000): Promise<{ code: number; served: Served }> {
  const reply = await f.kernel.send({ to: "ledger", from: "main", type: "add", timeoutMs });
  return { code: reply.code, served: reply.data as Served };
}

const REFUSAL =
  "node node-b will not take over ledger: it has version 1.0.0, the state was saved by 2.0.0; hot-swap it to 2.0.0 or newer";

const occurrences = (text: string, line: string): number => text.split(line).length - 1;

describe("versions of a service with state", () => {
  it(
    "the owner's hot swap is saved under the new version and the standbys learn it; after the owner dies, the standby swapped to it takes over from the state, the older one never takes the lease",
    { timeout: 180_000 },
    async () => {
      const f = await setUp(["node-a", "node-b", "node-c"]);
      const [a, b, c] = f.nodes as [NodeProcess, NodeProcess, NodeProcess];
      for (let i = 1; i <= 3; i++)
        expect(await add(f)).toEqual({ code: 0, served: { node: "node-a", count: i, version: "1.0.0" } });

      expect(await a.ask("swap", { version: "2.0.0" })).toBe("swapped");
      // Saved at once under the new version (no call needed), the count carried across.
      await waitFor("the state saved by 2.0.0", async () => (await stored(f)).version === "2.0.0", 30_000);
      expect((await stored(f)).count).toBe(3);
      // The standbys learn it from the lease: they show what they need, and say it once.
      await waitFor(
        "node-b and node-c need 2.0.0",
        () =>
          ledgerOn(f.cluster, "node-b")?.needsVersion === "2.0.0" &&
          ledgerOn(f.cluster, "node-c")?.needsVersion === "2.0.0",
        30_000,
      );
      expect(ledgerOn(f.cluster, "node-a")).toMatchObject({ role: "active", version: "2.0.0" });
      expect(ledgerOn(f.cluster, "node-a")?.needsVersion).toBeUndefined();
      expect(b.output()).toContain(
        "node node-b has ledger 1.0.0 on standby while its owner node-a runs 2.0.0: hot-swap it here too, or this node will not take over once 2.0.0 has saved the state",
      );

      // A standby can be hot-swapped: its idle old version's save is dropped (the owner's state is newer), not refused.
      expect(await c.ask("swap", { version: "2.0.0" })).toBe("swapped");
      await waitFor(
        "node-c eligible",
        () =>
          ledgerOn(f.cluster, "node-c")?.version === "2.0.0" &&
          ledgerOn(f.cluster, "node-c")?.needsVersion === undefined,
        30_000,
      );
      expect(ledgerOn(f.cluster, "node-c")?.role).toBe("standby");
      expect(await add(f)).toEqual({ code: 0, served: { node: "node-a", count: 4, version: "2.0.0" } });
      const before = await stored(f);

      await a.kill();
      await waitFor(
        "node-c active and running",
        () => ledgerOn(f.cluster, "node-c")?.role === "active" && ledgerOn(f.cluster, "node-c")?.status === "running",
        30_000,
      );
      expect(await add(f)).toEqual({ code: 0, served: { node: "node-c", count: 5, version: "2.0.0" } });
      const after = await stored(f);
      expect(after).toMatchObject({ count: 5, version: "2.0.0" });
      expect(after.epoch).toBeGreaterThan(before.epoch ?? 0);
      expect(b.output()).not.toMatch(/node node-b holds the lease/);
      expect(ledgerOn(f.cluster, "node-b")).toMatchObject({ role: "standby", needsVersion: "2.0.0" });
      console.log(`planned upgrade: ${/node node-c serves ledger[^\n]*/.exec(c.output())?.[0]}`);
    },
  );

  it(
    "when every node is older than the state, nobody takes over (state safety first), said once; a hot swap makes one take over",
    { timeout: 180_000 },
    async () => {
      const f = await setUp(["node-a", "node-b"]);
      const [a, b] = f.nodes as [NodeProcess, NodeProcess];
      for (let i = 1; i <= 3; i++) expect((await add(f)).code).toBe(0);
      expect(await a.ask("swap", { version: "2.0.0" })).toBe("swapped");
      expect(await add(f)).toEqual({ code: 0, served: { node: "node-a", count: 4, version: "2.0.0" } });
      await waitFor("the state saved by 2.0.0", async () => (await stored(f)).version === "2.0.0", 30_000);
      const before = await stored(f);

      await a.kill();
      await waitFor("node-b refuses", () => b.output().includes(REFUSAL), 30_000);
      await waitFor("node-b says nobody can", () => /no node can take over ledger/.test(b.output()), 30_000);
      // Held, never 404, and unserved until its deadline: nobody runs code new enough.
      expect((await add(f, 1500)).code).toBe(408);
      expect(ledgerOn(f.cluster, "node-b")).toMatchObject({ role: "standby", version: "1.0.0", needsVersion: "2.0.0" });
      expect(await stored(f)).toEqual(before);
      // Still refusing after more lease periods (it keeps watching), with the line said once.
      await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_MS));
      expect(occurrences(b.output(), REFUSAL)).toBe(1);
      expect(occurrences(b.output(), "no node can take over ledger")).toBe(1);
      expect(b.output()).toContain(
        "no node can take over ledger: the state was saved by 2.0.0 and every node that has it runs an older version (node-b 1.0.0)",
      );
      expect(b.output()).not.toMatch(/node node-b holds the lease/);

      expect(await b.ask("swap", { version: "2.0.0" })).toBe("swapped");
      await waitFor(
        "node-b active and running",
        () => ledgerOn(f.cluster, "node-b")?.role === "active" && ledgerOn(f.cluster, "node-b")?.status === "running",
        30_000,
      );
      expect(b.output()).toContain(
        "node node-b can take over ledger again: it has version 2.0.0, the state was saved by 2.0.0",
      );
      expect(await add(f)).toEqual({ code: 0, served: { node: "node-b", count: 5, version: "2.0.0" } });
      expect(ledgerOn(f.cluster, "node-b")?.needsVersion).toBeUndefined();
      console.log(
        b
          .output()
          .split("\n")
          .filter((line) => /take over ledger/.test(line))
          .join("\n"),
      );
    },
  );
});
