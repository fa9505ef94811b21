// Hostile and malformed wire messages published straight to a node's subjects
// with a raw NATS client: each is answered (500/503/408) or dropped with a log
// line, nothing runs that should not, and the node keeps serving.
import { type NatsServer, startNats } from "@mk/test-servers";
import { connect, headers, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeProcess, startNode, waitFor } from "./helpers.ts";

let nats: NatsServer;
let node: NodeProcess;
let nc: NatsConnection;
const CALL = "mk.default.call.node-b";

beforeAll(async () => {
  nats = await startNats();
  node = await startNode({
    servers: nats.url,
    node: "node-b",
    services: [{ name: "count" }, { name: "echo" }],
    maxPayloadBytes: 4096,
  });
  nc = await connect({ servers: nats.url });
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await node?.kill();
  await nats?.stop();
}, 60_000);

function hdrs(values: Record<string, string>) {
  const h = headers();
  for (const [k, v] of Object.entries(values)) h.set(k, v);
  return h;
}

const good = { "Mk-Wire": "1", "Mk-Kind": "send", "Mk-Budget": "5000" };

async function ask(subject: string, body: Uint8Array | string, values?: Record<string, string>): Promise<Msg> {
  const opts = values === undefined ? { timeout: 10_000 } : { timeout: 10_000, headers: hdrs(values) };
  return nc.request(subject, body, opts);
}

const codeOf = (msg: Msg): string => msg.headers?.get("Mk-Code") ?? "";
const bodyOf = (msg: Msg): { message: string; data?: unknown } => msg.json();

async function runs(): Promise<number> {
  const msg = await ask(`${CALL}.count`, JSON.stringify({ from: "t", type: "how-many" }), good);
  return bodyOf(msg).data as number;
}

describe("hostile wire messages", () => {
  it("answers malformed calls 500 with what was wrong", async () => {
    const cases: [string, Uint8Array | string, Record<string, string> | undefined, RegExp][] = [
      ["no headers", "{}", undefined, /expected Mk-Wire 1, got nothing/],
      ["future wire version", "{}", { ...good, "Mk-Wire": "2" }, /expected Mk-Wire 1, got "2"/],
      ["bad kind", "{}", { ...good, "Mk-Kind": "eval" }, /expected Mk-Kind send or push/],
      ["budget not a number", "{}", { ...good, "Mk-Budget": "soon" }, /expected Mk-Budget/],
      ["negative budget", "{}", { ...good, "Mk-Budget": "-5" }, /expected Mk-Budget/],
      ["huge budget", "{}", { ...good, "Mk-Budget": "99999999999" }, /expected Mk-Budget/],
      ["not JSON", "{from:", good, /body is not JSON/],
      ["not UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), good, /not valid UTF-8/],
      ["an array", "[1,2]", good, /expected a JSON object body/],
      ["no type", JSON.stringify({ from: "x" }), good, /expected "type" to be a string/],
      [
        "oversized",
        JSON.stringify({ from: "x", type: "t", content: "x".repeat(10_000) }),
        good,
        /exceeds the limit of 4096/,
      ],
    ];
    const before = await runs();
    for (const [what, body, values, message] of cases) {
      const msg = await ask(`${CALL}.count`, body, values);
      expect(codeOf(msg), what).toBe("500");
      expect(bodyOf(msg).message, what).toMatch(message);
      expect(msg.headers?.get("Nats-Service-Error-Code"), what).toBe("500");
    }
    expect(await runs()).toBe(before);
  });

  it("answers a call whose budget is spent 408, without running it", async () => {
    const before = await runs();
    const msg = await ask(`${CALL}.count`, JSON.stringify({ from: "t", type: "add" }), { ...good, "Mk-Budget": "0" });
    expect(codeOf(msg)).toBe("408");
    expect(bodyOf(msg).message).toMatch(/deadline passed; not run/);
    expect(await runs()).toBe(before);
  });

  it("answers 503 (retry elsewhere) for a service that does not run there, 500 for a subject that names no service", async () => {
    const missing = await ask(`${CALL}.nothing`, JSON.stringify({ from: "t", type: "x" }), good);
    expect(codeOf(missing)).toBe("503");
    expect(missing.headers?.get("Mk-Retry")).toBe("1");
    const bad = await ask(`${CALL}.-bad`, JSON.stringify({ from: "t", type: "x" }), good);
    expect(codeOf(bad)).toBe("500");
  });

  it("drops messages without a reply subject and garbage heartbeats with a log line, and keeps serving", async () => {
    nc.publish(`${CALL}.count`, JSON.stringify({ from: "t", type: "add" }), { headers: hdrs(good) });
    nc.publish("mk.default.hb.node-x", "not json");
    nc.publish("mk.default.hb.node-x", JSON.stringify({ wire: 1, node: "node-y", id: "i", seq: 1, services: [] }));
    nc.publish(
      "mk.default.hb.node-x",
      JSON.stringify({ wire: 1, node: "node-x", id: "i", seq: 1, services: [{ name: "../etc", status: "running" }] }),
    );
    nc.publish("mk.default.discover", "whatever");
    await nc.flush();
    await waitFor("the dropped-message log line", () =>
      node.output().includes("dropped a message without a reply subject"),
    );
    await waitFor("the heartbeat log line", () => node.output().includes("dropped a heartbeat"));
    const reply = await ask(
      `${CALL}.echo`,
      JSON.stringify({ from: "t", type: "t", content: { __proto__: { x: 1 } } }),
      good,
    );
    expect(codeOf(reply)).toBe("0");
    const { services } = await node.ask<{ services: { node: string }[] }>("services");
    expect(services.every((s) => s.node === "node-b")).toBe(true);
    expect(node.child.exitCode).toBe(null);
  });

  it("answers malformed batches 500 as a whole, and bad calls in a batch one by one", async () => {
    const BATCH = "mk.default.batch.node-b";
    const batchHeaders = { "Mk-Wire": "1", "Mk-Batch": "3" };
    const whole: [string, Uint8Array | string, Record<string, string> | undefined, RegExp][] = [
      ["no headers", "[]", undefined, /expected Mk-Wire 1, got nothing/],
      ["no count", "[]", { "Mk-Wire": "1" }, /expected Mk-Batch a count, got nothing/],
      ["not an array", "{}", batchHeaders, /expected a batch/],
      ["not JSON", "[{", batchHeaders, /not JSON/],
      ["too large", `[${"1,".repeat(3000)}1]`, batchHeaders, /exceeds the limit of 4096/],
      ["an element without id", '[{"s":"count"}]', batchHeaders, /expected each batched call to have an id/],
    ];
    const before = await runs();
    for (const [what, body, values, message] of whole) {
      const msg = await ask(BATCH, body, values);
      expect(codeOf(msg), what).toBe("500");
      expect(msg.headers?.get("Mk-Batch"), what).toBe("");
      expect(bodyOf(msg).message, what).toMatch(message);
    }
    const mixed = await ask(
      BATCH,
      JSON.stringify([
        { i: "a", s: "count", k: "send", b: 5000, e: { from: "t", type: "add" } },
        { i: "b", s: "count", k: "send", b: 0, e: { from: "t", type: "add" } },
        { i: "c", s: "nothing", k: "send", b: 5000, e: { from: "t", type: "add" } },
        { i: "d", s: "count", k: "eval", b: 5000, e: { from: "t", type: "add" } },
      ]),
      batchHeaders,
    );
    expect(mixed.headers?.get("Mk-Batch")).not.toBe("");
    const replies = mixed.json<{ i: string; c: number; r?: number }[]>();
    // Replies that are ready at once come first; the call that ran may come in the same or a later message.
    const byId = new Map(replies.map((r) => [r.i, r]));
    expect(byId.get("b")?.c).toBe(408);
    expect(byId.get("c")).toMatchObject({ c: 503, r: 1 });
    expect(byId.get("d")?.c).toBe(500);
    expect(await runs()).toBe(before + 1);
  });

  it("serves a client that is not an mk node through the service's queue group subject", async () => {
    const msg = await ask("mk.default.svc.echo", JSON.stringify({ from: "cli", type: "say", content: [1] }), good);
    expect(codeOf(msg)).toBe("0");
    expect(bodyOf(msg).data).toMatchObject({ node: "node-b", content: [1] });
    const none = await ask("mk.default.svc.count", JSON.stringify({ from: "cli", type: "how-many" }), good);
    expect(codeOf(none)).toBe("0");
    await expect(ask("mk.default.svc.nothing", "{}", good)).rejects.toThrow();
  });
});
