// Failures under load, each on its own nats-server and nodes: a node SIGKILLed
// mid-call, a nats-server restart, a hot swap on one of two replicas.
// Calls are counted, never timed tightly: the assertions are "every call was
// answered once, with these codes", and the kill-to-503 delays are printed.
import { startNats } from "@mk/test-servers";
import { afterEach, describe, expect, it } from "vitest";
import {
  type CallerFixture,
  codesOf,
  joinCaller,
  loadGenerator,
  type NodeProcess,
  startNode,
  tearDown,
  waitFor,
} from "./helpers.ts";

type Fixture = CallerFixture;

let current: Fixture | undefined;

afterEach(async () => {
  const f = current;
  current = undefined;
  await tearDown(f);
}, 60_000);

async function setUp(services: { name: string; version?: string }[]): Promise<Fixture> {
  const nats = await startNats();
  const nodes = await Promise.all(["node-b", "node-c"].map((node) => startNode({ servers: nats.url, node, services })));
  current = { ...(await joinCaller(nats)), nodes };
  const { cluster } = current;
  await waitFor("both nodes in the view", () => cluster.nodes().length === 3);
  return current;
}

describe("failures under cluster load", () => {
  it(
    "SIGKILL of a node under load: its calls in flight get 503 fast, the survivor serves, none answered twice",
    { timeout: 180_000 },
    async () => {
      const { nodes, kernel, cluster } = await setUp([{ name: "slow" }]);
      const [b] = nodes as [NodeProcess, NodeProcess];
      const load = loadGenerator(
        () => kernel.send({ to: "slow", from: "main", type: "work", content: { ms: 300 }, timeoutMs: 30_000 }),
        20,
        100_000,
      );
      await waitFor("calls answered before the kill", () => load.answers.length >= 40, 60_000);
      const killedAt = performance.now();
      await b.kill();
      await waitFor("node-b dropped from the view", () => !cluster.nodes().includes("node-b"), 20_000);
      const after = load.answers.length;
      await waitFor("the survivor serving", () => load.answers.length >= after + 40, 60_000);
      await load.stop();

      // Every issued call was answered exactly once (a promise settles once; the count proves none was lost).
      expect(load.answers.length).toBe(load.issued());
      const codes = codesOf(load.answers);
      expect(Object.keys(codes).sort()).toEqual(expect.arrayContaining(["0", "503"]));
      expect(Object.keys(codes).every((code) => code === "0" || code === "503")).toBe(true);
      const failed = load.answers.filter((a) => a.reply.code === 503);
      const delays = failed.map((a) => a.at - killedAt).sort((x, y) => x - y);
      // Answered by liveness, long before the 30 s deadline.
      expect(delays.at(-1) ?? 0).toBeLessThan(10_000);
      const afterDrop = load.answers.filter((a) => a.sentAt > killedAt + 5000);
      expect(afterDrop.every((a) => a.reply.code === 0)).toBe(true);
      console.log(
        `SIGKILL: ${load.answers.length} calls, codes ${JSON.stringify(codes)}, 503s ${delays.length}, kill->503 max ${delays.at(-1)?.toFixed(0)} ms, p50 ${delays[Math.floor(delays.length / 2)]?.toFixed(0)} ms`,
      );
    },
  );

  it(
    "nats-server restart under load: calls during the outage get 503, none hang, service resumes",
    { timeout: 180_000 },
    async () => {
      const { nats, kernel } = await setUp([{ name: "echo" }]);
      const load = loadGenerator(
        () => kernel.send({ to: "echo", from: "main", type: "t", timeoutMs: 30_000 }),
        10,
        1_000_000,
      );
      await waitFor("calls before the restart", () => load.answers.length >= 100, 60_000);
      const downAt = performance.now();
      await nats.kill("SIGKILL");
      await waitFor(
        "503s during the outage",
        () => load.answers.some((a) => a.at > downAt && a.reply.code === 503),
        20_000,
      );
      await nats.restart();
      const upAt = performance.now();
      await waitFor(
        "calls served again after the restart",
        () => load.answers.filter((a) => a.sentAt > upAt && a.reply.code === 0).length >= 50,
        60_000,
      );
      await load.stop();
      expect(load.answers.length).toBe(load.issued());
      const codes = codesOf(load.answers);
      expect(Object.keys(codes).every((code) => code === "0" || code === "503")).toBe(true);
      // None waited for its 30 s deadline: the longest call is far shorter.
      const longest = Math.max(...load.answers.map((a) => a.at - a.sentAt));
      expect(longest).toBeLessThan(15_000);
      console.log(
        `nats restart: ${load.answers.length} calls, codes ${JSON.stringify(codes)}, longest ${longest.toFixed(0)} ms`,
      );
    },
  );

  it("hot swap on one replica under cluster load loses nothing", { timeout: 180_000 }, async () => {
    const { nodes, kernel } = await setUp([{ name: "echo", version: "1" }]);
    const [b] = nodes as [NodeProcess, NodeProcess];
    const load = loadGenerator(
      () => kernel.send({ to: "echo", from: "main", type: "t", timeoutMs: 30_000 }),
      20,
      1_000_000,
    );
    await waitFor("calls before the swap", () => load.answers.length >= 200, 60_000);
    await b.ask("swap", { name: "echo", version: "2" });
    const swappedAt = performance.now();
    await waitFor(
      "version 2 answering",
      () => load.answers.some((a) => a.sentAt > swappedAt && (a.reply.data as { version?: string }).version === "2"),
      30_000,
    );
    const after = load.answers.length;
    await waitFor("more calls after the swap", () => load.answers.length >= after + 200, 60_000);
    await load.stop();
    expect(load.answers.length).toBe(load.issued());
    expect(codesOf(load.answers)).toEqual({ 0: load.answers.length });
    console.log(`hot swap: ${load.answers.length} calls, all answered 0`);
  });

  it(
    "stopping the service on one replica under cluster load loses nothing (calls move to the other)",
    { timeout: 180_000 },
    async () => {
      const { nodes, kernel, cluster } = await setUp([{ name: "echo", version: "1" }]);
      const [b] = nodes as [NodeProcess, NodeProcess];
      const load = loadGenerator(
        () => kernel.send({ to: "echo", from: "main", type: "t", timeoutMs: 30_000 }),
        20,
        1_000_000,
      );
      await waitFor("calls before the stop", () => load.answers.length >= 200, 60_000);
      await b.ask("stop", { name: "echo" });
      await waitFor("node-b's echo shown stopped", () =>
        cluster.services().some((s) => s.node === "node-b" && s.name === "echo" && s.status === "stopped"),
      );
      const after = load.answers.length;
      await waitFor("more calls after the stop", () => load.answers.length >= after + 200, 60_000);
      await load.stop();
      expect(load.answers.length).toBe(load.issued());
      expect(codesOf(load.answers)).toEqual({ 0: load.answers.length });
      expect(load.answers.slice(-100).every((a) => (a.reply.data as { node?: string }).node === "node-c")).toBe(true);
    },
  );
});
