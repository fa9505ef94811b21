import fc from "fast-check";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { serializeError } from "./error-serializer.ts";

// The reference: pino's own standard err serializer (pino-std-serializers), as pino 10 applies it.
const pinoErr = pino.stdSerializers.err as (error: Error) => unknown;

function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

class SaveError extends Error {
  readonly path: string;
  constructor(message: string, path: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

function shapes(): [string, Error][] {
  const plain = new Error("plain");
  const withCause = new Error("save failed", { cause: new Error("disk full", { cause: new Error("ENOSPC") }) });
  const coded = Object.assign(new Error("coded"), { code: "E_SAVE", retry: 3, nested: { a: [1, 2] } });
  const circular = new Error("loop a");
  const other = new Error("loop b", { cause: circular });
  (circular as { cause?: unknown }).cause = other;
  const innerOfVerror = new Error("inner");
  const verror = Object.assign(new Error("outer"), { cause: () => innerOfVerror });
  const stringCause = new TypeError("typed", { cause: "a string" });
  const enumerableCause = Object.assign(new Error("assigned"), { cause: new Error("inner assigned") });
  const selfRef = new Error("self");
  (selfRef as unknown as Record<string, unknown>)["self"] = selfRef;
  const withInner = Object.assign(new Error("outer"), { inner: new RangeError("inner") });
  const aggregate = new AggregateError([new Error("x"), new SaveError("y", "/tmp/y")], "many");
  const noStack = new Error("no stack");
  delete (noStack as { stack?: string }).stack;
  return [
    ["a plain Error", plain],
    ["a chain of causes", withCause],
    ["own enumerable properties", coded],
    ["a subclass (type is the constructor's name)", new SaveError("subclass", "/var/x")],
    ["a circular cause chain", circular],
    ["a VError-style cause() function", verror],
    ["a cause that is not an error", stringCause],
    ["a cause assigned as an enumerable property", enumerableCause],
    ["an error that refers to itself", selfRef],
    ["an error property that is an error", withInner],
    ["an AggregateError", aggregate],
    ["an error without a stack", noStack],
  ];
}

describe("serializeError: pino's err layout (issue 13 item 16)", () => {
  it.each(shapes())("writes %s exactly as pino's serializer does", (_what, error) => {
    expect(asJson(serializeError(error))).toEqual(asJson(pinoErr(error)));
  });

  it("renders causes as pino does: messages joined by ': ', stacks by 'caused by: '", () => {
    const error = new Error("save failed", { cause: new Error("disk full") });
    const out = serializeError(error);
    expect(out["type"]).toBe("Error");
    expect(out["message"]).toBe("save failed: disk full");
    expect(out["stack"]).toMatch(/^Error: save failed\n {4}at [^]*\ncaused by: Error: disk full\n {4}at /);
    expect("cause" in out).toBe(false);
  });

  it("agrees with pino for any message, cause depth and own properties (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string(), { minLength: 1, maxLength: 4 }),
        fc.dictionary(
          fc.string().filter((k) => !["type", "message", "stack", "cause", "aggregateErrors"].includes(k)),
          fc.jsonValue(),
          { maxKeys: 3 },
        ),
        (messages, props) => {
          let error: Error | undefined;
          for (const message of messages.reverse())
            error = new Error(message, error === undefined ? {} : { cause: error });
          Object.assign(error as Error, props);
          expect(asJson(serializeError(error as Error))).toEqual(asJson(pinoErr(error as Error)));
        },
      ),
      { numRuns: 200 },
    );
  });
});
