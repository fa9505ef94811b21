import { describe, expect, it } from "vitest";
import * as core from "./index.ts";
import {
  AlreadyRegisteredError,
  CheckpointFailedError,
  DependencyCycleError,
  InvalidArgumentError,
  InvalidEventError,
  InvalidNameError,
  InvalidStateError,
  KernelClosedError,
  KernelError,
  type KernelErrorCode,
  LifecycleAggregateError,
  LifecycleTimeoutError,
  MissingDependencyError,
  ServiceNotFoundError,
  StartFailedError,
  StateLoadFailedError,
  StateSaveFailedError,
  StopFailedError,
  SwapFailedError,
} from "./errors.ts";

// The catalogue: every code the kernel can throw, each with the class that
// carries it. Adding, renaming or removing a code must change this list on purpose.
const CATALOGUE: readonly [KernelErrorCode, () => KernelError][] = [
  ["INVALID_NAME", () => new InvalidNameError("../x")],
  ["SERVICE_NOT_FOUND", () => new ServiceNotFoundError("a")],
  ["ALREADY_REGISTERED", () => new AlreadyRegisteredError("a")],
  ["DEPENDENCY_CYCLE", () => new DependencyCycleError(["a", "b", "a"])],
  ["MISSING_DEPENDENCY", () => new MissingDependencyError("a", "b")],
  ["INVALID_STATE", () => new InvalidStateError("a", "running")],
  ["START_FAILED", () => new StartFailedError("a", new Error("boom"))],
  ["STOP_FAILED", () => new StopFailedError("a", new Error("boom"))],
  ["START_TIMEOUT", () => new LifecycleTimeoutError("start", "a", 10)],
  ["STOP_TIMEOUT", () => new LifecycleTimeoutError("stop", "a", 10)],
  ["START_ALL_FAILED", () => new LifecycleAggregateError("startAll", [{ service: "a", error: new Error("x") }])],
  ["STOP_ALL_FAILED", () => new LifecycleAggregateError("stopAll", [{ service: "a", error: new Error("x") }])],
  ["STATE_LOAD_FAILED", () => new StateLoadFailedError("a", new Error("disk"))],
  ["STATE_SAVE_FAILED", () => new StateSaveFailedError("a", new Error("disk"))],
  ["SWAP_FAILED", () => new SwapFailedError("a", "import", new Error("bad"))],
  ["CHECKPOINT_FAILED", () => new CheckpointFailedError([{ service: "a", error: new Error("x") }])],
  ["KERNEL_CLOSED", () => new KernelClosedError("send", "a")],
  ["INVALID_ARGUMENT", () => new InvalidArgumentError("expected a number, got string")],
  ["INVALID_EVENT", () => new InvalidEventError("a", "expected an event object")],
];

// Type-checked to name every member of KernelErrorCode, no more, no less.
const EVERY_CODE: Record<KernelErrorCode, true> = {
  INVALID_NAME: true,
  SERVICE_NOT_FOUND: true,
  ALREADY_REGISTERED: true,
  DEPENDENCY_CYCLE: true,
  MISSING_DEPENDENCY: true,
  INVALID_STATE: true,
  START_FAILED: true,
  STOP_FAILED: true,
  START_TIMEOUT: true,
  STOP_TIMEOUT: true,
  START_ALL_FAILED: true,
  STOP_ALL_FAILED: true,
  STATE_LOAD_FAILED: true,
  STATE_SAVE_FAILED: true,
  SWAP_FAILED: true,
  CHECKPOINT_FAILED: true,
  KERNEL_CLOSED: true,
  INVALID_ARGUMENT: true,
  INVALID_EVENT: true,
};

describe("KernelError catalogue", () => {
  it("pins every code, each made by its own class", () => {
    const codes = CATALOGUE.map(([code]) => code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual(Object.keys(EVERY_CODE).sort());
    for (const [code, make] of CATALOGUE) {
      const error = make();
      expect(error.code).toBe(code);
      expect(error).toBeInstanceOf(KernelError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(error.constructor.name);
      expect(error.message.length).toBeGreaterThan(0);
    }
  });

  it("exports every error class from the package, by name", () => {
    const exported = Object.entries(core).filter(
      ([, value]) => typeof value === "function" && (value === KernelError || value.prototype instanceof KernelError),
    );
    const classes = new Set(CATALOGUE.map(([, make]) => make().constructor));
    classes.add(KernelError);
    expect(new Set(exported.map(([, value]) => value))).toEqual(classes);
  });

  it("names the service and passes the cause on", () => {
    const cause = new Error("disk full");
    const error = new StateSaveFailedError("echo", cause);
    expect(error.service).toBe("echo");
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('could not save the state of service "echo": disk full');
  });

  it("describes any cause safely (issue 13 #7: a Proxy, a null-prototype object)", () => {
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
      },
    );
    expect(new StartFailedError("a", proxy).message).toBe('service "a" failed to start: Proxy {}');
    expect(new StopFailedError("a", Object.create(null)).message).toBe(
      'service "a" failed to stop: [Object: null prototype] {}',
    );
    expect(new InvalidNameError(proxy).message).toMatch(/^invalid service name \(object\) Proxy \{\}: expected /);
  });
});
