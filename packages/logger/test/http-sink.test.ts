import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, httpSink, HttpSinkError, InvalidArgumentError } from "../src/index.ts";

interface Received {
  body: string;
  contentType: string | undefined;
  authorization: string | undefined;
  at: number;
}

const servers: (Server | NetServer)[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A real node:http server on 127.0.0.1, port 0; `answer` decides each response. */
async function listen(
  answer: (req: IncomingMessage, res: ServerResponse, n: number) => void = (_req, res) => res.end("ok"),
  port = 0,
): Promise<{ url: string; port: number; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (body += d));
    req.on("end", () => {
      received.push({
        body,
        contentType: req.headers["content-type"],
        authorization: req.headers.authorization,
        at: Date.now(),
      });
      answer(req, res, received.length);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${actual}/ingest`, port: actual, received, server };
}

/** A port nobody listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A raw TCP server that answers every request with a status line and then one header line
 * every 200 ms, at most `max` of them (then it ends the answer): a slow-loris answer that a
 * socket timeout never notices. `sent` tells how many header lines each connection got
 * before the client went away.
 */
async function trickle(max: number): Promise<{ url: string; sent: number[] }> {
  const sent: number[] = [];
  const server = createNetServer((socket) => {
    socket.on("error", () => undefined); // the client aborting is the point
    socket.once("data", () => {
      socket.write("HTTP/1.1 200 OK\r\n");
      let n = 0;
      const timer = setInterval(() => {
        if (n >= max) {
          clearInterval(timer);
          socket.end("content-length: 0\r\n\r\n");
          return;
        }
        socket.write(`x-trickle-${n++}: .\r\n`);
      }, 200);
      socket.on("close", () => {
        clearInterval(timer);
        sent.push(n);
      });
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`, sent };
}

function messages(received: Received[]): string[] {
  return received.flatMap((r) => (JSON.parse(r.body) as { msg: string }[]).map((x) => x.msg));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("httpSink against a real local HTTP server", () => {
  it("delivers records in batches, in order, as pino-style JSON", async () => {
    const { url, received } = await listen();
    const sink = httpSink(url, { batchSize: 10, flushInterval: 50, headers: { authorization: "Bearer t" } });
    const log = createLogger({ service: "api", sinks: [sink] });
    for (let i = 0; i < 95; i++) log.info("req %d", i, { i });
    await log.flush();
    expect(received.length).toBe(10);
    expect(received.map((r) => (JSON.parse(r.body) as unknown[]).length)).toEqual([
      10, 10, 10, 10, 10, 10, 10, 10, 10, 5,
    ]);
    expect(received[0]?.contentType).toBe("application/json");
    expect(received[0]?.authorization).toBe("Bearer t");
    expect(messages(received)).toEqual(Array.from({ length: 95 }, (_, i) => `req ${i}`));
    const first = (JSON.parse(received[0]?.body ?? "[]") as Record<string, unknown>[])[0];
    expect(first).toMatchObject({ level: 30, service: "api", i: 0, msg: "req 0" });
    expect(typeof first?.["time"]).toBe("number");
    expect(sink.stats()).toEqual({ errors: 0, dropped: 0, sent: 95, batches: 10, retries: 0, buffered: 0 });
    await log.close();
  });

  it("sends a partial batch after flushInterval without flush()", async () => {
    const { url, received } = await listen();
    const sink = httpSink(url, { batchSize: 100, flushInterval: 30, format: "ndjson" });
    const log = createLogger({ sinks: [sink] });
    log.warn("lonely");
    expect(received).toHaveLength(0);
    for (let i = 0; i < 1000 && received.length === 0; i++) await sleep(10);
    expect(received).toHaveLength(1);
    expect(received[0]?.contentType).toBe("application/x-ndjson");
    expect(received[0]?.body.endsWith("\n")).toBe(true);
    expect(JSON.parse(received[0]?.body ?? "")).toMatchObject({ level: 40, msg: "lonely" });
    await log.close();
  });

  it("server down: log calls return at once, the buffer stays bounded, drops are counted, retries back off", async () => {
    const port = await deadPort();
    const failures: { at: number; error: Error }[] = [];
    const sink = httpSink(`http://127.0.0.1:${port}/x`, {
      batchSize: 5,
      maxBuffer: 20,
      retries: 3,
      minBackoff: 40,
      maxBackoff: 1000,
      flushInterval: 10,
      onError: (error) => failures.push({ at: Date.now(), error }),
    });
    const log = createLogger({ sinks: [sink] });
    for (let i = 0; i < 100; i++) log.error("e %d", i);
    // The first batch of 5 left at once; 95 more came while it was in flight: 20 fit.
    expect(sink.stats().buffered).toBe(25);
    expect(sink.stats().dropped).toBe(75);
    await log.flush();
    const stats = sink.stats();
    expect(stats).toMatchObject({ sent: 0, batches: 0, dropped: 100, buffered: 0 });
    expect(stats.retries).toBe(5 * 3); // 5 batches × 3 retries
    expect(stats.errors).toBe(5 * 4); // every failed attempt
    expect(log.stats()).toEqual({ records: 100, sinkErrors: 20, dropped: 100 });
    // Per batch: 3 retry notices then one drop notice, with growing gaps (≥ half the nominal backoff: jitter).
    const first = failures.slice(0, 4);
    expect(first.every((f) => f.error instanceof HttpSinkError)).toBe(true);
    expect(first[3]?.error.message).toMatch(/^dropped 5 log records after 4 attempt\(s\)/);
    const gaps = first.slice(1).map((f, i) => f.at - (first[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(20 - 2);
    expect(gaps[1]).toBeGreaterThanOrEqual(40 - 2);
    expect(gaps[2]).toBeGreaterThanOrEqual(80 - 2);
    await log.close();
  });

  it("recovers when the server comes back on the same port", async () => {
    const port = await deadPort();
    const sink = httpSink(`http://127.0.0.1:${port}/x`, {
      batchSize: 5,
      retries: 1000,
      minBackoff: 20,
      maxBackoff: 50,
    });
    const log = createLogger({ sinks: [sink] });
    for (let i = 0; i < 12; i++) log.info("m %d", i);
    await sleep(60);
    expect(sink.stats().sent).toBe(0);
    const { received } = await listen(undefined, port);
    await log.flush();
    expect(messages(received)).toEqual(Array.from({ length: 12 }, (_, i) => `m ${i}`));
    expect(sink.stats()).toMatchObject({ sent: 12, dropped: 0 });
    expect(sink.stats().retries).toBeGreaterThan(0);
    await log.close();
  });

  it("slow server: nothing blocks, one request at a time, everything arrives", async () => {
    let open = 0;
    let maxOpen = 0;
    const { url, received } = await listen((_req, res) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      setTimeout(() => {
        open--;
        res.end("ok");
      }, 150);
    });
    const sink = httpSink(url, { batchSize: 10, flushInterval: 10 });
    const log = createLogger({ sinks: [sink] });
    for (let i = 0; i < 50; i++) log.info("slow %d", i);
    expect(sink.stats()).toMatchObject({ sent: 0, buffered: 50 });
    await log.flush();
    expect(maxOpen).toBe(1);
    expect(messages(received)).toEqual(Array.from({ length: 50 }, (_, i) => `slow ${i}`));
    await log.close();
  });

  it("a server that never answers: the attempt times out, is retried, then dropped", async () => {
    const { url, server } = await listen(() => {
      // never answer
    });
    let requests = 0;
    server.on("request", () => requests++);
    const errors: Error[] = [];
    const sink = httpSink(url, { timeout: 300, retries: 1, minBackoff: 10, onError: (e) => errors.push(e) });
    const log = createLogger({ sinks: [sink] });
    log.info("lost");
    await log.flush();
    // Client-side facts only: how fast the server saw each request depends on the machine.
    expect(requests).toBeGreaterThanOrEqual(1);
    expect(sink.stats()).toMatchObject({ sent: 0, dropped: 1, errors: 2, retries: 1 });
    expect(errors[0]?.message).toMatch(/no complete answer within 300 ms/);
    await log.close();
  });

  it("500 is retried and then succeeds", async () => {
    const { url, received } = await listen((_req, res, n) => {
      res.statusCode = n <= 2 ? 500 : 200;
      res.end();
    });
    const sink = httpSink(url, { retries: 5, minBackoff: 10 });
    const log = createLogger({ sinks: [sink] });
    log.info("eventually");
    await log.flush();
    expect(received).toHaveLength(3);
    expect(sink.stats()).toMatchObject({ sent: 1, dropped: 0, retries: 2, errors: 2 });
    await log.close();
  });

  it("500 forever: retried, then dropped and counted with the status", async () => {
    const { url, received } = await listen((_req, res) => {
      res.statusCode = 500;
      res.end("no");
    });
    const errors: HttpSinkError[] = [];
    const sink = httpSink(url, { retries: 2, minBackoff: 10, onError: (e) => errors.push(e as HttpSinkError) });
    const log = createLogger({ sinks: [sink] });
    log.info("a");
    log.info("b");
    await log.flush();
    expect(received).toHaveLength(3);
    expect(sink.stats()).toMatchObject({ sent: 0, dropped: 2, retries: 2, errors: 3 });
    expect(errors.map((e) => [e.code, e.status])).toEqual([
      ["HTTP_SINK", 500],
      ["HTTP_SINK", 500],
      ["HTTP_SINK", 500],
    ]);
    expect(log.stats().dropped).toBe(2);
    await log.close();
  });

  it("400 is not retried", async () => {
    const { url, received } = await listen((_req, res) => {
      res.statusCode = 400;
      res.end();
    });
    const sink = httpSink(url, { retries: 5, minBackoff: 10 });
    const log = createLogger({ sinks: [sink] });
    log.info("bad");
    await log.flush();
    expect(received).toHaveLength(1);
    expect(sink.stats()).toMatchObject({ sent: 0, dropped: 1, retries: 0, errors: 1 });
    await log.close();
  });

  it("close() with the server down gives up after flushTimeout and counts what is left", async () => {
    const port = await deadPort();
    const sink = httpSink(`http://127.0.0.1:${port}/x`, {
      retries: 1000,
      minBackoff: 50,
      maxBackoff: 50,
      flushTimeout: 200,
    });
    const log = createLogger({ sinks: [sink] });
    log.info("a");
    log.info("b");
    await log.close();
    expect(sink.stats()).toMatchObject({ sent: 0, dropped: 2, buffered: 0 });
    log.info("after close");
    expect(log.stats().dropped).toBe(3);
  });

  it("sends what is left when the process ends on its own (beforeExit)", { timeout: 120_000 }, async () => {
    const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "index.js");
    expect(existsSync(dist), `${dist} is missing: run \`pnpm build\` in packages/logger first`).toBe(true);
    const { url, received } = await listen();
    const fixture = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "http-natural-exit.mjs");
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [fixture, pathToFileURL(dist).href, url, "250"], { stdio: "inherit" });
      child.on("error", reject);
      child.on("close", resolve);
    });
    expect(code).toBe(0);
    expect(messages(received)).toEqual(Array.from({ length: 250 }, (_, i) => `line ${i}`));
  });

  it("regression: timeout bounds the whole request; a server trickling a header every 200 ms is cut off (issue 13 item 15)", async () => {
    // 300 header lines are 60 s; the timeout is 1 s: the request ends after about 5.
    const { url, sent } = await trickle(300);
    const errors: Error[] = [];
    const sink = httpSink(url, { timeout: 1000, retries: 0, onError: (e) => errors.push(e) });
    const log = createLogger({ sinks: [sink] });
    log.info("one line");
    await sink.flush(); // resolves when the attempt is over (flushTimeout 10 s would cut a hang short)
    expect(sink.stats()).toMatchObject({ sent: 0, dropped: 1, errors: 1, buffered: 0 });
    expect(errors[0]?.message).toMatch(/no complete answer within 1000 ms/);
    for (let i = 0; i < 100 && sent.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeLessThan(300); // the client went away; the server did not end the answer
    await sink.close();
  });

  it(
    "a process whose httpSink meets a trickling server still exits on its own (issue 13 item 15)",
    { timeout: 180_000 },
    async () => {
      const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "index.js");
      expect(existsSync(dist), `${dist} is missing: run \`pnpm build\` in packages/logger first`).toBe(true);
      const { url, sent } = await trickle(600); // 120 s of headers
      const fixture = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "http-trickle-exit.mjs");
      const { code, signal, stdout } = await new Promise<{
        code: number | null;
        signal: string | null;
        stdout: string;
      }>((resolve, reject) => {
        const child = spawn(process.execPath, [fixture, pathToFileURL(dist).href, url], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
        // Bounded: a child still running after 90 s (the trickle lasts 120 s) is the defect.
        const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
        child.on("error", reject);
        child.on("close", (c, sig) => {
          clearTimeout(killer);
          resolve({ code: c, signal: sig, stdout: out });
        });
      });
      expect(signal).toBeNull();
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ sent: 0, dropped: 1 });
      for (let i = 0; i < 100 && sent.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(sent[0]).toBeLessThan(600);
    },
  );

  it("rejects bad URLs and options with typed errors", () => {
    for (const bad of [
      () => httpSink("not a url"),
      () => httpSink("ftp://127.0.0.1/x"),
      () => httpSink(42 as never),
      () => httpSink("http://127.0.0.1/x", { batchSize: 0 }),
      () => httpSink("http://127.0.0.1/x", { retries: -1 }),
      () => httpSink("http://127.0.0.1/x", { timeout: Number.NaN }),
      () => httpSink("http://127.0.0.1/x", { format: "xml" as never }),
      () => httpSink("http://127.0.0.1/x", { headers: { a: 1 } as never }),
      () => httpSink("http://127.0.0.1/x", { headers: { "bad name": "v" } }),
      () => httpSink("http://127.0.0.1/x", { headers: { authorization: "a\r\nx-injected: 1" } }),
      () => httpSink("http://127.0.0.1/x", { onError: true as never }),
    ]) {
      expect(bad).toThrow(InvalidArgumentError);
    }
  });

  it("a direct call with a garbage record does not throw and is counted", async () => {
    const { url } = await listen();
    const sink = httpSink(url);
    expect(() => sink(null as never)).not.toThrow();
    expect(sink.stats()).toMatchObject({ errors: 1, dropped: 1 });
    await sink.close();
  });
});

describe("httpSink level", () => {
  it("sends only records at or above its level", async () => {
    const { url, received } = await listen();
    const sink = httpSink(url, { level: "error" });
    const log = createLogger({ level: "debug", sinks: [sink] });
    log.info("no");
    log.error("yes");
    log.warn("no");
    await log.flush();
    expect(messages(received)).toEqual(["yes"]);
    expect(() => httpSink(url, { level: "x" as never })).toThrow(/invalid log level/);
    await log.close();
  });
});
