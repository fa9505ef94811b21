// The program that runs inside an isolate (a worker thread or a child
// process): loads the service's module, reports what it found, then serves
// the kernel's messages. It never imports @mk/core at run time: an isolate
// holds the service and this small loop, nothing more.
import type { Event, Reply, Service } from "@mk/core";
import type { Level } from "@mk/logger";
import { parentPort, workerData } from "node:worker_threads";
import { IsolateContext, OutgoingCalls } from "./isolate-context.ts";
import {
  H_CALL,
  H_CONTROL,
  H_PING,
  H_REJECT,
  H_REPLY,
  I_DONE,
  I_ERR,
  I_FAIL,
  I_LOAD_FAILED,
  I_OK,
  I_PONG,
  I_READY,
  I_SEND,
  I_THREW,
  Outbox,
  toWireError,
  type ControlOp,
  type IsolateInit,
  type LoadFailure,
  type ModuleInfo,
  type WireError,
} from "./protocol.ts";
import { RemoteLogger } from "./remote-logger.ts";

type Body = Omit<Service, "name">;
const METHODS = ["start", "stop", "handle", "exportState", "importState"] as const;

const port = parentPort;
const init = (port === null ? JSON.parse(process.argv[2] ?? "{}") : workerData) as IsolateInit;

function ignore(): void {
  // process.send's callback: an error means the kernel is gone, and "disconnect" below ends this process.
}

const post: (batch: unknown[][]) => void =
  port === null
    ? (batch) => {
        process.send?.(batch, undefined, undefined, ignore);
      }
    : (batch) => port.postMessage(batch);

const out = new Outbox(post, refused);
const calls = new OutgoingCalls(out);
let service: Body | undefined;
let context: IsolateContext | undefined;

function cloneError(what: string, error: unknown): WireError {
  return {
    name: "NotCloneableError",
    code: "NOT_CLONEABLE",
    message: `${what} cannot cross the isolate boundary (expected structured-cloneable data: no functions, symbols or class instances with private state): ${error instanceof Error ? error.message : String(error)}`,
  };
}

/** A message that could not be cloned: its waiting party gets a NOT_CLONEABLE error instead. */
function refused(message: unknown[], error: unknown): void {
  const id = message[1] as number;
  switch (message[0]) {
    case I_DONE:
      post([[I_THREW, id, cloneError("the reply", error)]]);
      return;
    case I_OK:
      post([[I_ERR, id, cloneError("the value returned", error)]]);
      return;
    case I_SEND:
      calls.refuse(id, Object.assign(new Error(cloneError("the event", error).message), { code: "NOT_CLONEABLE" }));
      return;
    case I_FAIL:
      post([[I_FAIL, { name: "Error", message: String((message[1] as WireError).message) }, message[2]]]);
      return;
    default:
      post([[I_FAIL, cloneError(`message ${String(message[0])}`, error), true]]);
  }
}

function onBatch(batch: unknown[][]): void {
  for (const message of batch) {
    switch (message[0]) {
      case H_CALL:
        handle(message[1] as number, message[2] as Event);
        break;
      case H_CONTROL:
        void control(message[1] as number, message[2] as ControlOp, message[3]);
        break;
      case H_REPLY:
        calls.settle(message[1] as number, true, message[2]);
        break;
      case H_REJECT: {
        const wire = message[2] as WireError;
        calls.settle(message[1] as number, false, Object.assign(new Error(wire.message), wire));
        break;
      }
      case H_PING:
        out.add([I_PONG]);
        break;
      default:
        break;
    }
  }
}

function handle(id: number, event: Event): void {
  const body = service;
  if (body === undefined || typeof body.handle !== "function" || context === undefined) {
    out.add([I_DONE, id, { code: 404, message: `service "${init.service}" is not running in its isolate` }]);
    return;
  }
  let result: Reply | Promise<Reply>;
  try {
    result = body.handle(event, context);
  } catch (error) {
    out.add([I_THREW, id, toWireError(error)]);
    return;
  }
  if (typeof (result as { then?: unknown } | null)?.then === "function") {
    (result as Promise<Reply>).then(
      (reply) => out.add([I_DONE, id, reply]),
      (error: unknown) => out.add([I_THREW, id, toWireError(error)]),
    );
  } else {
    out.add([I_DONE, id, result]);
  }
}

async function control(id: number, op: ControlOp, argument: unknown): Promise<void> {
  try {
    // The kernel sends import and start without waiting for I_READY (one round trip less per start).
    await loaded;
    if (service === undefined) throw new Error(`service "${init.service}" was not loaded`);
    const value = await run(op, argument);
    out.add([I_OK, id, value]);
  } catch (error) {
    out.add([I_ERR, id, toWireError(error)]);
  }
}

async function run(op: ControlOp, argument: unknown): Promise<unknown> {
  const body = service as Body;
  switch (op) {
    case "start": {
      const { level } = argument as { level: Level };
      context = new IsolateContext(init.service, new RemoteLogger(init.service, level, (m) => out.add(m)), calls, out);
      await body.start?.(context);
      return undefined;
    }
    case "stop":
      context?.end(new Error(`service "${init.service}" stopped`));
      await body.stop?.();
      return undefined;
    case "export":
      return await body.exportState?.();
    case "import": {
      const { state, info } = argument as { state: unknown; info: { fromVersion?: string } };
      await body.importState?.(state, info);
      return undefined;
    }
  }
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "function" ? "a function (export an object, not a class or factory)" : typeof value;
}

async function load(): Promise<void> {
  let namespace: Record<string, unknown>;
  const fail = (code: LoadFailure, detail: string, error?: unknown): void => {
    post([[I_LOAD_FAILED, code, detail, error === undefined ? undefined : toWireError(error)]]);
  };
  try {
    namespace = (await import(init.module)) as Record<string, unknown>;
  } catch (error) {
    fail(
      "MODULE_IMPORT_FAILED",
      `threw while being imported: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
    return;
  }
  const body = namespace["default"];
  if (body === undefined) {
    fail("NO_DEFAULT_EXPORT", "has no default export (expected `export default { handle() {...} }`)");
    return;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    fail("NOT_A_SERVICE", `has a default export that is not a service: expected an object, got ${describeValue(body)}`);
    return;
  }
  const candidate = body as Record<string, unknown>;
  const wrong = METHODS.filter((m) => candidate[m] !== undefined && typeof candidate[m] !== "function");
  if (wrong.length > 0) {
    fail("NOT_A_SERVICE", `has a default export that is not a service: ${wrong.join(", ")} must be functions`);
    return;
  }
  if (!METHODS.some((m) => typeof candidate[m] === "function")) {
    fail("NOT_A_SERVICE", `has a default export that is not a service: expected at least one of ${METHODS.join(", ")}`);
    return;
  }
  service = body as Body;
  const info: ModuleInfo = {
    start: typeof candidate["start"] === "function",
    stop: typeof candidate["stop"] === "function",
    handle: typeof candidate["handle"] === "function",
    exportState: typeof candidate["exportState"] === "function",
    importState: typeof candidate["importState"] === "function",
  };
  if (typeof candidate["version"] === "string") info.version = candidate["version"];
  out.add([I_READY, info]);
}

const loaded = load();

if (port === null) {
  process.on("message", (batch) => onBatch(batch as unknown[][]));
  // The kernel is gone (or let go of this isolate): nothing can reach this process any more.
  process.on("disconnect", () => process.exit(0));
  process.on("uncaughtException", (error) => {
    process.send?.([[I_FAIL, toWireError(error), true]], undefined, undefined, () => process.exit(70));
    setTimeout(() => process.exit(70), 1000).unref();
  });
} else {
  port.on("message", onBatch);
}
