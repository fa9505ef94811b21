import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { batchElement, decodeBatch, decodeBatchReply, MAX_BATCH, replyElement } from "./batch-wire.ts";
import { encodeRequestBody } from "./wire.ts";

const MAX = 1_048_576;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;
const id = fc.stringMatching(/^[0-9a-z]{1,12}$/);
const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);

describe("batch wire format", () => {
  it("round-trips any batch of strict JSON calls", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id,
            service: name,
            kind: fc.constantFrom("send", "push" as const),
            budget: fc.integer({ min: 0, max: 2_147_483_647 }),
            from: fc.string(),
            type: fc.string(),
            content: fc.option(fc.jsonValue(), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        (calls) => {
          const body = `[${calls
            .map((c) =>
              batchElement(
                c.id,
                c.service,
                c.kind,
                String(c.budget),
                encodeRequestBody(c.service, c.from, c.type, c.content, MAX),
              ),
            )
            .join(",")}]`;
          const decoded = decodeBatch(bytes(body), MAX);
          expect(decoded).toEqual(
            calls.map((c) => ({
              id: c.id,
              service: c.service,
              request: {
                kind: c.kind,
                budgetMs: c.budget,
                from: c.from,
                type: c.type,
                ...(c.content === undefined ? {} : { content: viaJson(c.content) }),
              },
            })),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("round-trips any batch of replies", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id,
            code: fc.integer({ min: -1000, max: 1000 }),
            message: fc.string(),
            data: fc.option(fc.jsonValue(), { nil: undefined }),
            retry: fc.boolean(),
          }),
          { maxLength: 20 },
        ),
        (replies) => {
          const body = JSON.stringify(
            replies.map((r) =>
              replyElement(
                r.id,
                "svc",
                r.data === undefined
                  ? { code: r.code, message: r.message }
                  : { code: r.code, message: r.message, data: r.data },
                r.retry,
              ),
            ),
          );
          expect(decodeBatchReply(bytes(body), MAX)).toEqual(
            replies.map((r) => ({
              id: r.id,
              retry: r.retry,
              reply: { code: r.code, message: r.message, ...(r.data === undefined ? {} : { data: viaJson(r.data) }) },
            })),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
        const calls = decodeBatch(raw, MAX);
        const replies = decodeBatchReply(raw, MAX);
        expect(Array.isArray(calls) || typeof calls.problem === "string").toBe(true);
        expect(Array.isArray(replies) || typeof replies.problem === "string").toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("says what is wrong with a batch, and answers a readable call with a bad part one by one", () => {
    expect(decodeBatch(bytes("{}"), MAX)).toEqual({ problem: `expected a batch: an array of 1 to ${MAX_BATCH} calls` });
    expect(decodeBatch(bytes("[]"), MAX)).toMatchObject({ problem: expect.stringMatching(/array of 1 to/) });
    expect(decodeBatch(bytes('[{"s":"echo"}]'), MAX)).toEqual({ problem: "expected each batched call to have an id" });
    expect(decodeBatch(bytes("[1]"), 1)).toMatchObject({ problem: expect.stringMatching(/exceeds the limit of 1/) });
    const mixed = decodeBatch(
      bytes(
        '[{"i":"a","s":"../x","k":"send","b":1,"e":{}},{"i":"b","s":"echo","k":"eval","b":1,"e":{}},{"i":"c","s":"echo","k":"send","b":-1,"e":{}},{"i":"d","s":"echo","k":"send","b":1,"e":{"from":"x"}}]',
      ),
      MAX,
    );
    expect(mixed).toEqual([
      { id: "a", problem: "expected a service name" },
      { id: "b", problem: "expected k: send or push" },
      { id: "c", problem: "expected b: an integer budget in [0, 2147483647]" },
      { id: "d", problem: 'expected "type" to be a string, got undefined' },
    ]);
  });

  it("turns reply data that cannot travel into a 500 for that call only", () => {
    expect(replyElement("a", "svc", { code: 0, message: "ok", data: { n: 1n } }, false)).toEqual({
      i: "a",
      c: 500,
      m: 'service "svc" replied with a value that cannot travel: cannot encode data.n for service "svc": a bigint has no JSON form',
    });
  });
});
