// Child-process cluster nodes for the suites (test/fixtures/node.ts run with tsx),
// a capturing logger, bounded waiting, and a load generator for the suites under load.
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Kernel, type Reply } from "@mk/core";
import { createLogger, type Logger, type LogRecord } from "@mk/logger";
import type { NatsServer } from "@mk/test-servers";
import { type Cluster, joinCluster } from "../src/index.ts";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

export interface NodeProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything the node wrote to stdout and stderr so far. */
  output(): string;
  /** Sends one IPC request and resolves with its result (rejects with its error). */
  ask<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  readonly exited: Promise<number | null>;
}

export interface NodeConfig {
  servers: string;
  node: string;
  namespace?: string;
  services: { name: string; version?: string }[];
  maxPayloadBytes?: number;
}

/** Config of `fixtures/stateful-node.ts`: a node with the "ledger" service with state. */
export interface StatefulNodeConfig {
  servers: string;
  node: string;
  bucket: string;
  leaseMs?: number;
  /** The ledger's version (default "1", not a semantic version: never refused). */
  version?: string;
}

/** Starts a node process (`fixtures/<script>`) and waits (at most 60 s) until it has joined. */
export function startNode(
  config: NodeConfig | StatefulNodeConfig,
  script: "node.ts" | "stateful-node.ts" = "node.ts",
): Promise<NodeProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(fixtures, script)], {
    cwd: fixtures,
    env: { ...process.env, MK_NODE: JSON.stringify(config), TSX_TSCONFIG_PATH: join(fixtures, "tsconfig.json") },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 0;
  child.on("message", (raw: unknown) => {
    const m = raw as { id?: number; result?: unknown; error?: { name: string; code?: string; message: string } };
    if (m.id === undefined) return;
    const w = waiting.get(m.id);
    if (w === undefined) return;
    waiting.delete(m.id);
    if (m.error !== undefined) w.reject(Object.assign(new Error(m.error.message), m.error));
    else w.resolve(m.result);
  });
  void exited.then((code) => {
    for (const w of waiting.values()) w.reject(new Error(`node ${config.node} exited (${String(code)})`));
    waiting.clear();
  });
  const node: NodeProcess = {
    name: config.node,
    child,
    output: () => output,
    ask: <T>(op: string, args: Record<string, unknown> = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, op, ...args });
      }),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    exited,
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`node ${config.node} did not join within 60 s:\n${output}`));
    }, 60_000);
    child.on("message", (m: unknown) => {
      if ((m as { ready?: string }).ready === config.node) {
        clearTimeout(timer);
        resolve(node);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node ${config.node} exited (${String(code)}) before joining:\n${output}`));
    });
  });
}

/** Polls `check` every 50 ms until it returns true, at most `timeoutMs`; throws with `what` otherwise. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < end && i < 100_000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A test's nats-server, the caller kernel in this process joined to it, and the node processes it starts. */
export interface CallerFixture {
  nats: NatsServer;
  nodes: NodeProcess[];
  kernel: Kernel;
  cluster: Cluster;
}

/** A caller in this process (no store, no services of its own) joined as node "caller" to `nats`. */
export async function joinCaller(nats: NatsServer): Promise<CallerFixture> {
  const log = captureLogger();
  const kernel = new Kernel({ logger: log.logger, checkpointIntervalMs: 0 });
  const cluster = await joinCluster(kernel, { servers: nats.url, node: "caller", logger: log.logger });
  return { nats, nodes: [], kernel, cluster };
}

/** Leaves and closes the caller, wakes any node a test left SIGSTOPped, kills the nodes, stops the server. */
export async function tearDown(f: CallerFixture | undefined): Promise<void> {
  if (f === undefined) return;
  await f.cluster.leave();
  await f.kernel.close();
  for (const n of f.nodes) if (n.child.signalCode === null && n.child.exitCode === null) n.child.kill("SIGCONT");
  await Promise.all(f.nodes.map((n) => n.kill()));
  await f.nats.stop();
}

export interface CapturedLogger {
  logger: Logger;
  records: LogRecord[];
  text(): string;
}

export function captureLogger(): CapturedLogger {
  const records: LogRecord[] = [];
  const logger = createLogger({ level: "debug", sinks: [(r) => void records.push(r)] });
  return { logger, records, text: () => records.map((r) => r.message).join("\n") };
}

/** One answer a load generator received: the reply, when it came and when its call was sent. */
export interface Answer {
  reply: Reply;
  at: number;
  sentAt: number;
}

export interface LoadGenerator {
  /** Every answer, in arrival order, each recorded once. */
  readonly answers: Answer[];
  /** How many calls were sent so far. */
  issued(): number;
  /** Stops sending, and resolves once every call in flight is answered. */
  stop(): Promise<void>;
}

/** Keeps `concurrency` calls in flight until `stop()`; every answer is recorded once. */
export function loadGenerator(call: () => Promise<Reply>, concurrency: number, maxCalls: number): LoadGenerator {
  const answers: Answer[] = [];
  let issued = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped && issued < maxCalls) {
      issued++;
      const sentAt = performance.now();
      const reply = await call();
      answers.push({ reply, at: performance.now(), sentAt });
      // Like a real client: back off a little after a refusal (an immediate 503 in a loop would starve the event loop).
      if (reply.code !== 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, worker));
  return {
    answers,
    issued: () => issued,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

/** How many answers came with each reply code. */
export function codesOf(answers: readonly { reply: Reply }[]): Record<number, number> {
  const codes: Record<number, number> = {};
  for (const { reply } of answers) codes[reply.code] = (codes[reply.code] ?? 0) + 1;
  return codes;
}
