// Three nodes as child processes on one nats-server started by the suite,
// plus this process as a fourth node ("caller") that calls them.
import { Kernel, type Reply } from "@mk/core";
import { type NatsServer, startNats } from "@mk/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { joinCluster, type Cluster } from "../src/index.ts";
import { captureLogger, type NodeProcess, startNode, waitFor } from "./helpers.ts";

let nats: NatsServer;
let a: NodeProcess;
let b: NodeProcess;
let c: NodeProcess;
let kernel: Kernel;
let cluster: Cluster;
const log = captureLogger();

beforeAll(async () => {
  nats = await startNats();
  const servers = nats.url;
  [a, b, c] = await Promise.all([
    startNode({ servers, node: "node-a", services: [{ name: "count" }, { name: "relay" }] }),
    startNode({ servers, node: "node-b", services: [{ name: "echo", version: "1" }, { name: "slow" }] }),
    startNode({ servers, node: "node-c", services: [{ name: "echo", version: "1" }, { name: "slow" }] }),
  ]);
  kernel = new Kernel({ logger: log.logger, checkpointIntervalMs: 0 });
  cluster = await joinCluster(kernel, { servers, node: "caller", logger: log.logger });
  await waitFor("the three nodes in the view", () => cluster.nodes().length === 4);
}, 180_000);

afterAll(async () => {
  await cluster?.leave();
  await kernel?.close();
  await Promise.all([a?.kill(), b?.kill(), c?.kill()]);
  await nats?.stop();
}, 60_000);

const data = (reply: Reply): { node?: string; version?: string; content?: unknown } =>
  (reply.data ?? {}) as { node?: string; version?: string; content?: unknown };

describe("a cluster of three nodes", () => {
  it("sends and pushes to a service on another node", async () => {
    const sent = await kernel.send({ to: "echo", from: "main", type: "say", content: { hi: [1, "x", null] } });
    expect(sent.code).toBe(0);
    expect(data(sent).content).toEqual({ hi: [1, "x", null] });
    expect(["node-b", "node-c"]).toContain(data(sent).node);
    const pushed = await kernel.push({ to: "count", from: "main", type: "add" });
    expect(pushed).toMatchObject({ code: 0, data: { node: "node-a" } });
  });

  it("reaches a service from one child node to another (node-a calls echo on b or c)", async () => {
    const reply = await a.ask<Reply>("call", { kind: "send", event: { to: "echo", from: "a-main", type: "t" } });
    expect(reply.code).toBe(0);
    expect(["node-b", "node-c"]).toContain(data(reply).node);
  });

  it("routes a service's own ctx.send and ctx.push to another node (relay on node-a calls echo on b or c)", async () => {
    for (const push of [false, true]) {
      const reply = await kernel.send({ to: "relay", from: "main", type: "hop", content: { to: "echo", push } });
      expect(reply).toMatchObject({ code: 0, data: { code: 0, data: { content: { via: "node-a" } } } });
      const inner = (reply.data as Reply).data as { node: string };
      expect(["node-b", "node-c"]).toContain(inner.node);
    }
  });

  it("balances calls between the two replicas", async () => {
    const nodes: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const reply = await kernel.send({ to: "echo", from: "main", type: "t" });
      const node = data(reply).node ?? "-";
      nodes[node] = (nodes[node] ?? 0) + 1;
    }
    expect(nodes["node-b"]).toBeGreaterThanOrEqual(10);
    expect(nodes["node-c"]).toBeGreaterThanOrEqual(10);
  });

  it("gives each of 200 calls in flight its own reply (batched on the wire)", async () => {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0
          ? kernel.send({ to: "echo", from: "main", type: "t", content: i })
          : kernel.push({ to: "echo", from: "main", type: "t", content: i }),
      ),
    );
    expect(replies.map((r) => [r.code, data(r).content])).toEqual(Array.from({ length: 200 }, (_, i) => [0, i]));
  });

  it("answers 404 for a service no node runs", async () => {
    expect(await kernel.send({ to: "nobody", from: "main", type: "t" })).toEqual({
      code: 404,
      message: 'service "nobody" is not registered',
    });
  });

  it("carries the deadline across nodes: 408 at the caller's deadline, not the handler's", async () => {
    const reply = await kernel.send({ to: "slow", from: "main", type: "t", content: { ms: 2000 }, timeoutMs: 100 });
    expect(reply.code).toBe(408);
    expect(reply.message).toMatch(/did not reply to "t" within \d+ ms/);
  });

  it("rejects a call whose content cannot travel with a typed error, naming the path", async () => {
    await expect(
      kernel.send({ to: "echo", from: "main", type: "t", content: { list: [1, 2n] } }),
    ).rejects.toMatchObject({ code: "ENCODE_FAILED", path: "content.list[1]" });
  });

  it("stops waiting when the caller's signal aborts", async () => {
    const controller = new AbortController();
    const call = kernel.send(
      { to: "slow", from: "main", type: "t", content: { ms: 500 } },
      { signal: controller.signal },
    );
    controller.abort(new Error("gave up"));
    await expect(call).rejects.toThrow("gave up");
  });

  it("shows every node's services in cluster.services()", () => {
    const rows = cluster.services().map((s) => `${s.node}/${s.name}/${s.status}/${s.role}`);
    expect(rows.sort()).toEqual(
      [
        "node-a/count/running/replica",
        "node-a/relay/running/replica",
        "node-b/echo/running/replica",
        "node-b/slow/running/replica",
        "node-c/echo/running/replica",
        "node-c/slow/running/replica",
      ].sort(),
    );
    expect(cluster.services().find((s) => s.name === "echo")?.version).toBe("1");
  });

  it("refuses a second live node with the same name", async () => {
    const other = new Kernel({ logger: log.logger });
    await expect(joinCluster(other, { servers: nats.url, node: "node-b" })).rejects.toMatchObject({
      code: "DUPLICATE_NODE",
      node: "node-b",
    });
    await other.close();
  });

  it("refuses bad arguments, a second join of the same kernel, and an unreachable server with typed errors", async () => {
    await expect(joinCluster(null as unknown as Kernel, { servers: nats.url, node: "x" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(joinCluster(kernel, { servers: nats.url, node: "caller-2" })).rejects.toMatchObject({
      code: "ALREADY_JOINED",
    });
    const other = new Kernel({ logger: log.logger });
    await expect(joinCluster(other, { servers: "nats://127.0.0.1:1", node: "lonely" })).rejects.toMatchObject({
      code: "CONNECT_FAILED",
      node: "lonely",
    });
    await other.close();
  });

  it("leave(): the others drop the node at once, its remote calls stop, and it can join again", async () => {
    const other = new Kernel({ logger: log.logger, checkpointIntervalMs: 0 });
    await other.register({ name: "late", handle: () => ({ code: 0, message: "late" }) });
    await other.startAll();
    const member = await joinCluster(other, { servers: nats.url, node: "visitor", logger: log.logger });
    await waitFor("visitor in the view", () => cluster.nodes().includes("visitor"));
    expect((await kernel.send({ to: "late", from: "main", type: "t" })).message).toBe("late");
    expect((await other.send({ to: "echo", from: "visitor", type: "t" })).code).toBe(0);
    await Promise.all([member.leave(), member.leave()]);
    // Its leaving heartbeat may arrive after leave() resolved (a loaded machine): wait for it, not for a time.
    await waitFor("visitor gone from the view", () => !cluster.nodes().includes("visitor"), 20_000);
    await waitFor("visitor's services forgotten", () => cluster.services().every((s) => s.node !== "visitor"), 20_000);
    // It left gracefully: its services are forgotten (404), not "unavailable" (503); no later heartbeat of
    // the instance that left brings it back (the defect behind a CI failure here: 503 instead of 404).
    expect((await kernel.send({ to: "late", from: "main", type: "t" })).code).toBe(404);
    expect((await other.send({ to: "echo", from: "visitor", type: "t" })).code).toBe(404);
    const again = await joinCluster(other, { servers: nats.url, node: "visitor", logger: log.logger });
    await again.leave();
    await other.close({ stopAll: true });
  });

  it("answers 503, not 404, for a service whose only node vanished (SIGKILL), once that node is dropped", async () => {
    await a.kill();
    await waitFor("node-a dropped from the view", () => !cluster.nodes().includes("node-a"), 20_000);
    const reply = await kernel.send({ to: "count", from: "main", type: "add" });
    expect(reply.code).toBe(503);
    expect(reply.message).toBe('service "count" has no live node (it last ran on node "node-a")');
    expect(cluster.services().some((s) => s.node === "node-a")).toBe(false);
  });
});
