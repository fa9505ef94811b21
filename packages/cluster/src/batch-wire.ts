// Batches (wire v1): many calls to one node in one message, many replies in one message.
import type { Reply } from "@mk/core";
import { isName } from "./names.ts";
import { assertStrictJson } from "./strict-json.ts";
import { type CallKind, callOf, MAX_BUDGET_MS, parseJson, type WireProblem, type WireRequest } from "./wire.ts";

/**
 * When a caller has several calls for one node in the same tick (calls in
 * flight pipeline), it sends them as one message to `mk.<ns>.batch.<node>`
 * with headers `Mk-Wire: 1`, `Mk-Batch: <count>` and a JSON array body:
 *
 * ```json
 * [{"i":"3f","s":"echo","k":"send","b":4999,"e":{"from":"main","type":"say","content":1}}]
 * ```
 *
 * `i` is the caller's call id (1 to 32 characters of `[0-9A-Za-z_-]`), `s` the
 * service, `k` the kind, `b` the budget in ms and `e` the call's body as a
 * single call would carry it. Replies go to the batch's reply subject, in one
 * or more messages (the node answers what is done at each tick), with
 * `Mk-Wire: 1`, `Mk-Batch: <count>` and a JSON array body of
 * `{"i","c":code,"m":message,"d"?:data,"r"?:1}` (`r`: nothing ran, try another
 * node). A batch the node cannot read at all is answered by one plain reply
 * (`Mk-Code: 500`, no `Mk-Batch`) that answers all of its calls.
 */
export const H_BATCH = "Mk-Batch";

/** Most calls in one batch (and replies in one reply message). */
export const MAX_BATCH = 1000;

const ID = /^[0-9A-Za-z_-]{1,32}$/;

/** One call inside a batch. */
export interface BatchedCall {
  id: string;
  service: string;
  request: WireRequest;
}

/** One element of a batch body; `body` is the call's JSON text from `encodeRequestBody`. */
export function batchElement(id: string, service: string, kind: CallKind, budget: string, body: string): string {
  // id and service follow patterns without quotes or backslashes: no escaping needed.
  return `{"i":"${id}","s":"${service}","k":"${kind}","b":${budget},"e":${body}}`;
}

/**
 * Decodes a batch body. Elements that cannot be read but have an id come back
 * as `{ id, problem }` (answered 500 one by one); a body that is not an array
 * of at most {@link MAX_BATCH} comes back as one problem.
 */
export function decodeBatch(
  body: Uint8Array,
  maxBytes: number,
): (BatchedCall | { id: string; problem: string })[] | WireProblem {
  if (body.length > maxBytes) return { problem: `batch of ${body.length} bytes exceeds the limit of ${maxBytes}` };
  const parsed = parseJson(body);
  if ("problem" in parsed) return parsed;
  const value = parsed.value;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_BATCH) {
    return { problem: `expected a batch: an array of 1 to ${MAX_BATCH} calls` };
  }
  const out: (BatchedCall | { id: string; problem: string })[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== "object" || item === null) return { problem: "expected each batched call to be an object" };
    const { i, s, k, b, e } = item as Record<string, unknown>;
    if (typeof i !== "string" || !ID.test(i)) return { problem: "expected each batched call to have an id" };
    if (!isName(s)) {
      out.push({ id: i, problem: "expected a service name" });
      continue;
    }
    if (k !== "send" && k !== "push") {
      out.push({ id: i, problem: "expected k: send or push" });
      continue;
    }
    if (typeof b !== "number" || !Number.isInteger(b) || b < 0 || b > MAX_BUDGET_MS) {
      out.push({ id: i, problem: `expected b: an integer budget in [0, ${MAX_BUDGET_MS}]` });
      continue;
    }
    const request = callOf(e, k, b);
    if ("problem" in request) out.push({ id: i, problem: request.problem });
    else out.push({ id: i, service: s, request });
  }
  return out;
}

/** One reply of a batch reply message. */
export interface BatchedReply {
  id: string;
  reply: Reply;
  retry: boolean;
}

/** A reply's element; data that cannot travel turns it into a 500 saying so. */
export function replyElement(id: string, service: string, reply: Reply, retry: boolean): Record<string, unknown> {
  const element: Record<string, unknown> = { i: id, c: reply.code, m: reply.message };
  if (retry) element["r"] = 1;
  if (reply.data === undefined) return element;
  try {
    if (!Number.isInteger(reply.code)) throw new Error(`code ${String(reply.code)} is not an integer`);
    assertStrictJson(reply.data, "data", service);
    element["d"] = reply.data;
    return element;
  } catch (error) {
    return {
      i: id,
      c: 500,
      m: `service "${service}" replied with a value that cannot travel: ${(error as Error).message}`,
    };
  }
}

/** Decodes a batch reply message; a {@link WireProblem} when it cannot be read at all. */
export function decodeBatchReply(body: Uint8Array, maxBytes: number): BatchedReply[] | WireProblem {
  if (body.length > maxBytes)
    return { problem: `batch reply of ${body.length} bytes exceeds the limit of ${maxBytes}` };
  const parsed = parseJson(body);
  if ("problem" in parsed) return parsed;
  const value = parsed.value;
  if (!Array.isArray(value) || value.length > MAX_BATCH) {
    return { problem: `expected a batch reply: an array of at most ${MAX_BATCH} replies` };
  }
  const out: BatchedReply[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== "object" || item === null) return { problem: "expected each reply to be an object" };
    const { i, c, m, d, r } = item as Record<string, unknown>;
    if (typeof i !== "string" || !ID.test(i)) return { problem: "expected each reply to have an id" };
    if (typeof c !== "number" || !Number.isInteger(c)) return { problem: `reply ${i}: expected an integer code` };
    if (typeof m !== "string") return { problem: `reply ${i}: expected a message` };
    const reply: Reply = { code: c, message: m };
    if (d !== undefined) reply.data = d;
    out.push({ id: i, reply, retry: r === 1 });
  }
  return out;
}
