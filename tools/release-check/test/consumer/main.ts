// A user's first program, type-checked strictly (moduleResolution nodenext,
// skipLibCheck off) against the INSTALLED tarballs and then run with node.
// It touches every package through its public entry point only.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Kernel,
  KernelError,
  ReplyCode,
  type Event,
  type Reply,
  type Service,
  type ServiceContext,
  type ServiceStatus,
} from "@mk/core";
import { AesGcmCrypter, CryptoError, LegacyAesGcmCrypter, type Crypter } from "@mk/crypto";
import { createLogger, jsonSink, textSink, type Level, type LogRecord, type Logger, type Sink } from "@mk/logger";
import { FileStateStore, MemoryStateStore, type StateStore } from "@mk/state";

const lines: string[] = [];
const records: LogRecord[] = [];
const capture: Sink = (record) => {
  records.push(record);
};
const level: Level = "info";
const logger: Logger = createLogger({
  level,
  sinks: [textSink({ write: (line: string) => void lines.push(line) }), capture, jsonSink({ write: () => undefined })],
});

class Counter implements Service {
  readonly name = "counter";
  readonly version = "1.0.0";
  count = 0;
  handle(event: Event, ctx: ServiceContext): Reply<number> {
    this.count += 1;
    ctx.logger.info("got %s", event.type);
    return { code: ReplyCode.OK, message: "counted", data: this.count };
  }
  exportState(): number {
    return this.count;
  }
  importState(state: unknown): void {
    if (typeof state === "number") this.count = state;
  }
}

const crypter: Crypter = new AesGcmCrypter("1234567890123456");
const legacy: Crypter = new LegacyAesGcmCrypter("1234567890123456");
const dir = mkdtempSync(join(tmpdir(), "mk-consumer-"));
const store: StateStore = new FileStateStore(dir, crypter, { legacy });

async function run(times: number): Promise<number> {
  const kernel = new Kernel({ store, logger, checkpointIntervalMs: 0 });
  const counter = new Counter();
  await kernel.register(counter);
  await kernel.startAll();
  const status: ServiceStatus = kernel.status("counter");
  if (status !== "running") throw new Error(`expected running, got ${status}`);
  let last: Reply | undefined;
  for (let i = 0; i < times; i++) last = await kernel.send({ to: "counter", from: "consumer", type: "tick" });
  const pushed = await kernel.push({ to: "counter", from: "consumer", type: "tick" });
  const missing = await kernel.send({ to: "nobody", from: "consumer", type: "tick" });
  if (last?.code !== 0 || pushed.code !== 0 || missing.code !== ReplyCode.NOT_FOUND)
    throw new Error("unexpected replies");
  await kernel.stopAll();
  await kernel.close();
  return counter.count;
}

const first = await run(2);
const second = await run(2);

let typedError = "";
try {
  await new Kernel({ store: new MemoryStateStore(), logger, checkpointIntervalMs: 0 }).register({ name: "../etc" });
} catch (error) {
  if (error instanceof KernelError) typedError = error.code;
}
let cryptoError = "";
try {
  await crypter.decrypt(new Uint8Array(10));
} catch (error) {
  if (error instanceof CryptoError) cryptoError = error.code;
}

process.stdout.write(
  JSON.stringify({ first, second, typedError, cryptoError, logged: lines.length > 0 && records.length > 0 }) + "\n",
);
