import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WireEncodeError } from "./errors.ts";
import {
  budgetHeader,
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequestBody,
  H_BUDGET,
  H_CODE,
  H_KIND,
  H_WIRE,
  type HeaderGet,
  WIRE_VERSION,
} from "./wire.ts";

const MAX = 1_048_576;
const getter =
  (values: Record<string, string>): HeaderGet =>
  (name) =>
    values[name] ?? "";

/** What JSON makes of a value (-0 becomes 0, undefined properties vanish). */
const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

describe("wire format v1", () => {
  it("round-trips any strict JSON call: what the receiver decodes is what was sent", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.option(fc.jsonValue(), { nil: undefined }),
        fc.constantFrom("send", "push" as const),
        fc.integer({ min: 0, max: 2_147_483_647 }),
        (from, type, content, kind, budget) => {
          const body = new TextEncoder().encode(encodeRequestBody("svc", from, type, content, MAX));
          const decoded = decodeRequest(
            getter({ [H_WIRE]: WIRE_VERSION, [H_KIND]: kind, [H_BUDGET]: budgetHeader(budget) }),
            body,
            MAX,
          );
          const expected: Record<string, unknown> = { kind, budgetMs: budget, from, type };
          if (content !== undefined) expected["content"] = viaJson(content);
          expect(decoded).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("round-trips any strict JSON reply", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 1000 }),
        fc.string(),
        fc.option(fc.jsonValue(), { nil: undefined }),
        (code, message, data) => {
          const reply = data === undefined ? { code, message } : { code, message, data };
          const encoded = encodeReply("svc", reply, MAX);
          const decoded = decodeReply(
            getter({ [H_WIRE]: WIRE_VERSION, [H_CODE]: String(encoded.code) }),
            encoded.body,
            MAX,
          );
          expect(decoded).toEqual(data === undefined ? { code, message } : { code, message, data: viaJson(data) });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never throws on arbitrary bytes and headers: a call either decodes or says what is wrong", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.dictionary(fc.constantFrom(H_WIRE, H_KIND, H_BUDGET, H_CODE), fc.string({ maxLength: 12 })),
        (bytes, values) => {
          const request = decodeRequest(getter(values), bytes, MAX);
          const reply = decodeReply(getter(values), bytes, MAX);
          for (const r of [request, reply]) {
            if ("problem" in r) expect(typeof r.problem).toBe("string");
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("refuses content that would not survive the trip, naming the path", () => {
    const cases: [unknown, string][] = [
      [{ a: [1, 2n] }, "content.a[1]"],
      [{ when: new Date(0) }, "content.when"],
      [{ m: new Map() }, "content.m"],
      [[undefined], "content[0]"],
      [Number.NaN, "content"],
      [{ f: () => 1 }, "content.f"],
      [Symbol("s"), "content"],
    ];
    for (const [content, path] of cases) {
      let error: unknown;
      try {
        encodeRequestBody("svc", "a", "t", content, MAX);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(WireEncodeError);
      expect(error).toMatchObject({ code: "ENCODE_FAILED", path, service: "svc" });
    }
    const cycle: Record<string, unknown> = {};
    cycle["self"] = cycle;
    expect(() => encodeRequestBody("svc", "a", "t", cycle, MAX)).toThrow(/nested deeper than 64 levels/);
    expect(() => encodeRequestBody("svc", "a", "t", "x".repeat(300), 256)).toThrow(/more than the limit of 256/);
  });

  it("leaves out undefined object properties, as JSON does", () => {
    const body = encodeRequestBody("svc", "a", "t", { a: 1, b: undefined }, MAX);
    expect(body).toBe('{"from":"a","type":"t","content":{"a":1}}');
  });

  it("turns reply data that cannot travel into a 500 naming the service", () => {
    const encoded = encodeReply("svc", { code: 0, message: "ok", data: { big: 1n } }, MAX);
    expect(encoded.code).toBe(500);
    expect(encoded.message).toMatch(/service "svc" replied with a value that cannot travel: cannot encode data.big/);
  });

  it("writes budgets as whole ms, 0 when spent", () => {
    expect([budgetHeader(-3), budgetHeader(0), budgetHeader(0.9), budgetHeader(12.7), budgetHeader(1e12)]).toEqual([
      "0",
      "0",
      "0",
      "12",
      "2147483647",
    ]);
  });
});
