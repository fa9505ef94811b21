// Fencing and roles in one process (real nats-server with JetStream): a stale owner's save is
// refused by the store and it stands down; a service with state must not run before the join.
import { AesGcmCrypter } from "@mk/crypto";
import { Kernel, type Service } from "@mk/core";
import { MemoryStateStore } from "@mk/state";
import { NatsKvStateStore } from "@mk/store-nats";
import { type NatsServer, startNats } from "@mk/test-servers";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, ClusterStateStore, clusterStore, joinCluster } from "../src/index.ts";
import { captureLogger, waitFor } from "./helpers.ts";

const crypter = new AesGcmCrypter("0123456789abcdef0123456789abcdef");
let nats: NatsServer;
let buckets = 0;

beforeAll(async () => {
  nats = await startNats({ jetstream: true });
}, 60_000);

afterAll(async () => {
  await nats.stop();
});

function ledger(name = "ledger"): Service & { count: number } {
  const service = {
    name,
    count: 0,
    exportState: () => ({ count: service.count }),
    importState: (state: unknown) => {
      service.count = (state as { count: number }).count;
    },
    handle: async (_e: unknown, ctx: { checkpoint(): Promise<void> }) => {
      service.count++;
      await ctx.checkpoint();
      return { code: 0, message: "ok", data: service.count };
    },
  };
  return service as Service & { count: number };
}

describe("fencing", () => {
  it(
    "a stale owner's save is refused (STATE_FENCED): it stands down with one log line and stops serving",
    { timeout: 60_000 },
    async () => {
      const bucket = `fence-${process.pid}-${buckets++}`;
      const log = captureLogger();
      const store = clusterStore(new NatsKvStateStore({ servers: nats.url, crypter, bucket }));
      const kernel = new Kernel({ logger: log.logger, store, checkpointIntervalMs: 0 });
      await kernel.register(ledger());
      // A long lease: the owner renews every 20 s, so only the store can tell it that it lost.
      const cluster = await joinCluster(kernel, {
        servers: nats.url,
        node: "owner",
        store,
        leaseMs: 60_000,
        logger: log.logger,
      });
      await waitFor("ledger active and running here", () =>
        cluster.services().some((s) => s.name === "ledger" && s.role === "active" && s.status === "running"),
      );
      expect((await kernel.send({ to: "ledger", from: "main", type: "add" })).data).toBe(1);
      const other = new NatsKvStateStore({ servers: nats.url, crypter, bucket });
      const mine = (await other.load("ledger"))?.epoch ?? 0;
      expect(mine).toBeGreaterThan(0);
      // A newer owner (the node that took the lease while this one was paused) saved under a higher epoch.
      await other.save("ledger", { count: 100 }, { epoch: mine + 1 });
      const refused = await kernel.send({ to: "ledger", from: "main", type: "add" });
      expect(refused.code).toBe(500);
      await waitFor("ledger stopped here, on standby", () =>
        cluster.services().some((s) => s.name === "ledger" && s.role === "standby" && s.status === "stopped"),
      );
      expect(log.text().match(/stands down as owner of ledger/g)).toHaveLength(1);
      expect(log.text()).toMatch(/STATE_FENCED/);
      // The newer owner's state is untouched; calls here wait for a node that serves it (none: 408).
      expect((await other.load("ledger"))?.state).toEqual({ count: 100 });
      expect((await kernel.send({ to: "ledger", from: "main", type: "add", timeoutMs: 300 })).code).toBe(408);
      await cluster.leave();
      await kernel.close();
      await store.close();
      await other.close();
    },
  );

  it("refuses a service with state that runs before the join, a plain store, and a store used twice", async () => {
    const store = clusterStore(new MemoryStateStore());
    const kernel = new Kernel({ logger: captureLogger().logger, store, checkpointIntervalMs: 0 });
    await kernel.register(ledger());
    await kernel.startAll();
    await expect(joinCluster(kernel, { servers: nats.url, node: "early", store })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      service: "ledger",
      message: expect.stringMatching(/has state and is running before the join: register .*, join, then start/),
    });
    await expect(
      joinCluster(kernel, { servers: nats.url, node: "plain", store: new MemoryStateStore() as never }),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/clusterStore\(\)/) });
    expect(() => clusterStore(null as never)).toThrow(/expected a StateStore/);
    expect(() => clusterStore(store)).toThrow(/already a ClusterStateStore/);
    expect(store).toBeInstanceOf(ClusterStateStore);
    await kernel.close({ stopAll: true });
  });

  // Long enough that a loaded machine never delays a renewal past it: this test is about
  // roles, not failover (with 1 s, a CI run under load saw a legitimate takeover by "two").
  const ROLES_LEASE_MS = 15_000;

  it(
    "standby elsewhere: a second node keeps the service registered, not started, and routes to the owner",
    {
      timeout: 60_000,
    },
    async () => {
      const bucket = `roles-${process.pid}-${buckets++}`;
      const log = captureLogger();
      const open = () => clusterStore(new NatsKvStateStore({ servers: nats.url, crypter, bucket }));
      const s1 = open();
      const k1 = new Kernel({ logger: log.logger, store: s1, checkpointIntervalMs: 0 });
      await k1.register(ledger());
      const c1 = await joinCluster(k1, {
        servers: nats.url,
        node: "one",
        store: s1,
        leaseMs: ROLES_LEASE_MS,
        logger: log.logger,
      });
      await waitFor("one active", () => c1.services().some((s) => s.role === "active" && s.status === "running"));
      const s2 = open();
      const k2 = new Kernel({ logger: log.logger, store: s2, checkpointIntervalMs: 0 });
      await k2.register(ledger());
      const c2 = await joinCluster(k2, {
        servers: nats.url,
        node: "two",
        store: s2,
        leaseMs: ROLES_LEASE_MS,
        logger: log.logger,
      });
      // Started by hand on the standby: the cluster stops it again (one owner).
      await k2.startAll();
      await waitFor("two on standby, stopped", () =>
        c1.services().some((s) => s.node === "two" && s.role === "standby" && s.status === "stopped"),
      );
      expect((await k2.send({ to: "ledger", from: "main", type: "add" })).data).toBe(1);
      expect((await k1.send({ to: "ledger", from: "main", type: "add" })).data).toBe(2);
      expect(
        c2
          .services()
          .map((s) => `${s.node}/${s.role}`)
          .sort(),
      ).toEqual(["one/active", "two/standby"]);
      await c2.leave();
      await c1.leave();
      await k2.close();
      await k1.close({ stopAll: true });
      await s1.close();
      await s2.close();
    },
  );

  it(
    "regression (handover waited for the standby's next poll): a lease released in the bucket is taken at once, from the bucket watch",
    { timeout: 60_000 },
    async () => {
      const namespace = `watch${buckets}`;
      const bucket = `watch-${process.pid}-${buckets++}`;
      const nc = await connect({ servers: nats.url });
      const leases = await new Kvm(jetstream(nc)).create(`mk-leases-${namespace}`, { history: 1 });
      // Held by a node this one never hears from: no heartbeat can tell it about the release.
      const held = await leases.put("lease/ledger", JSON.stringify({ node: "ghost", id: "g", epoch: 1 }));
      const log = captureLogger();
      const store = clusterStore(new NatsKvStateStore({ servers: nats.url, crypter, bucket }));
      const kernel = new Kernel({ logger: log.logger, store, checkpointIntervalMs: 0 });
      await kernel.register(ledger());
      // The longest lease: the next poll is a minute away and the lease expires in ten.
      const cluster = await joinCluster(kernel, {
        servers: nats.url,
        node: "heir",
        namespace,
        store,
        leaseMs: 600_000,
        logger: log.logger,
      });
      try {
        await waitFor("heir on standby", () =>
          cluster.services().some((s) => s.name === "ledger" && s.role === "standby"),
        );
        await leases.update("lease/ledger", JSON.stringify({ node: "ghost", id: "g", epoch: 1, released: true }), held);
        await waitFor("heir active and running", () =>
          cluster.services().some((s) => s.name === "ledger" && s.role === "active" && s.status === "running"),
        );
        expect((await kernel.send({ to: "ledger", from: "main", type: "add" })).data).toBe(1);
        expect(log.text()).toMatch(/node heir holds the lease of ledger, epoch 2/);
      } finally {
        await cluster.leave();
        await kernel.close({ stopAll: true });
        await store.close();
        await nc.close();
      }
    },
  );

  it(
    "regression (a release raced a renewal in flight and lost it: the standby waited out the whole lease): the release waits for the renewal",
    { timeout: 90_000 },
    async () => {
      const own = await startNats({ jetstream: true });
      // The states in memory (one store, two wrappers): only the leases go through the server.
      const inner = new MemoryStateStore();
      const log = captureLogger();
      const node = async (name: string): Promise<{ kernel: Kernel; cluster: Cluster }> => {
        const store = clusterStore(inner);
        const kernel = new Kernel({ logger: log.logger, store, checkpointIntervalMs: 0 });
        await kernel.register(ledger());
        // A minute's lease: a release that is lost shows as a standby still waiting long after.
        const cluster = await joinCluster(kernel, {
          servers: own.url,
          node: name,
          store,
          leaseMs: 60_000,
          logger: log.logger,
        });
        return { kernel, cluster };
      };
      const a = await node("a");
      await waitFor("a active", () => a.cluster.services().some((s) => s.role === "active" && s.status === "running"));
      const b = await node("b");
      try {
        await waitFor("b on standby", () => a.cluster.services().some((s) => s.node === "b" && s.role === "standby"));
        expect((await a.kernel.send({ to: "ledger", from: "main", type: "add" })).data).toBe(1);
        // The server hangs; a hot swap on a makes it renew its lease at once: that renewal stays in flight while a leaves.
        expect(await own.pause()).toBe(true);
        let leaving: Promise<void> | undefined;
        try {
          await a.kernel.replace(ledger());
          leaving = a.cluster.leave();
          await new Promise((resolve) => setTimeout(resolve, 300));
        } finally {
          own.signal("SIGCONT");
        }
        await leaving;
        await waitFor("b active and running", () =>
          b.cluster.services().some((s) => s.node === "b" && s.role === "active" && s.status === "running"),
        );
        expect(log.text()).not.toMatch(/could not release the lease/);
        expect((await b.kernel.send({ to: "ledger", from: "main", type: "add" })).data).toBe(2);
      } finally {
        own.signal("SIGCONT");
        await b.cluster.leave();
        await a.cluster.leave();
        await b.kernel.close({ stopAll: true });
        await a.kernel.close({ stopAll: true });
        await own.stop();
      }
    },
  );

  it(
    "leave() hands over every service it owns: each continues on the standby from its saved state",
    { timeout: 60_000 },
    async () => {
      const inner = new MemoryStateStore();
      const log = captureLogger();
      const names = ["ledger", "journal", "tally"];
      const namespace = `many${buckets++}`;
      const node = async (name: string): Promise<{ kernel: Kernel; cluster: Cluster }> => {
        const store = clusterStore(inner);
        const kernel = new Kernel({ logger: log.logger, store, checkpointIntervalMs: 0 });
        for (const service of names) await kernel.register(ledger(service));
        const cluster = await joinCluster(kernel, {
          servers: nats.url,
          node: name,
          namespace,
          store,
          leaseMs: 60_000,
          logger: log.logger,
        });
        return { kernel, cluster };
      };
      const a = await node("a");
      const b = await node("b");
      const roles = (role: string, on: string): boolean =>
        names.every((n) => a.cluster.services().some((s) => s.name === n && s.node === on && s.role === role));
      try {
        await waitFor("a owns all three, b on standby", () => roles("active", "a") && roles("standby", "b"));
        for (const n of names) expect((await a.kernel.send({ to: n, from: "main", type: "add" })).data).toBe(1);
        await a.cluster.leave();
        await waitFor("b serves all three", () =>
          names.every((n) =>
            b.cluster.services().some((s) => s.name === n && s.role === "active" && s.status === "running"),
          ),
        );
        for (const n of names) expect((await b.kernel.send({ to: n, from: "main", type: "add" })).data).toBe(2);
        expect(log.text().match(/node a handed \S+ over/g)).toHaveLength(3);
      } finally {
        await b.cluster.leave();
        await a.cluster.leave();
        await b.kernel.close({ stopAll: true });
        await a.kernel.close({ stopAll: true });
      }
    },
  );
});
