// wire format v1: call and reply headers and bodies, encode and decode.
import type { Reply } from "@mk/core";
import { WireEncodeError } from "./errors.ts";
import { assertStrictJson } from "./strict-json.ts";

/**
 * Wire format version 1: what travels between nodes. Documented in the README
 * ("Wire format"); any change that an older node cannot read takes a new version.
 *
 * A call is a NATS request to `mk.<ns>.call.<node>.<service>` with headers
 * - `Mk-Wire: 1`
 * - `Mk-Kind: send | push` (push goes through the receiving kernel's bounded queue)
 * - `Mk-Budget: <ms>` the caller's remaining deadline, a decimal integer; the
 *   receiver re-anchors it on its own clock, and `0` is answered 408 unrun
 *
 * and a UTF-8 JSON body `{"from": string, "type": string, "content"?: JSON}`.
 *
 * The reply goes to the request's reply subject with headers `Mk-Wire: 1`,
 * `Mk-Code: <reply code>`, `Mk-Node: <answering node>`, `Mk-Retry: 1` when
 * nothing ran there (the caller may try another node), and, for a non-zero
 * code, ADR-32's `Nats-Service-Error-Code`/`Nats-Service-Error`; the body is
 * UTF-8 JSON `{"message": string, "data"?: JSON}`.
 *
 * Values are strict JSON (see `assertStrictJson`): what would not survive
 * the trip unchanged is refused at the sender with a `WireEncodeError`.
 */
export const WIRE_VERSION = "1";

export const H_WIRE = "Mk-Wire";
export const H_KIND = "Mk-Kind";
export const H_BUDGET = "Mk-Budget";
export const H_CODE = "Mk-Code";
export const H_NODE = "Mk-Node";
export const H_RETRY = "Mk-Retry";
export const H_SERVICE_ERROR_CODE = "Nats-Service-Error-Code";
export const H_SERVICE_ERROR = "Nats-Service-Error";

export type CallKind = "send" | "push";

/** Longest budget a call can carry (setTimeout's limit, as in the kernel). */
export const MAX_BUDGET_MS = 2_147_483_647;

/** Reads one header; `""` when it is absent (the NATS client's convention). */
export type HeaderGet = (name: string) => string;

/** A decoded call. */
export interface WireRequest {
  kind: CallKind;
  /** Remaining deadline in ms at the sender; `0` means already expired. */
  budgetMs: number;
  from: string;
  type: string;
  /** Absent when the event had no content. */
  content?: unknown;
}

/** Why a message from the wire was not usable. */
export interface WireProblem {
  problem: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const DIGITS = /^[0-9]{1,10}$/;

function tooLarge(what: string, size: number, maxBytes: number, service: string): WireEncodeError {
  return new WireEncodeError(what, `${size} bytes encoded, more than the limit of ${maxBytes}`, { service });
}

/**
 * The body of a call to `service` (JSON text; also the `e` of a batched call).
 * @throws {WireEncodeError} when `content` is not strict JSON or the body exceeds `maxBytes`.
 */
export function encodeRequestBody(
  service: string,
  from: string,
  type: string,
  content: unknown,
  maxBytes: number,
): string {
  let text: string;
  if (content === undefined) {
    text = JSON.stringify({ from, type });
  } else {
    if (typeof content !== "string") assertStrictJson(content, "content", service);
    text = JSON.stringify({ from, type, content });
  }
  // UTF-8 is at most 3 bytes per UTF-16 unit: count exactly only when the text could be too large.
  if (text.length * 3 > maxBytes) {
    const size = Buffer.byteLength(text, "utf8");
    if (size > maxBytes) throw tooLarge("content", size, maxBytes, service);
  }
  return text;
}

/** Decodes a call; a {@link WireProblem} says what was wrong with it. */
export function decodeRequest(get: HeaderGet, body: Uint8Array, maxBytes: number): WireRequest | WireProblem {
  const version = get(H_WIRE);
  if (version !== WIRE_VERSION) return { problem: `expected ${H_WIRE} ${WIRE_VERSION}, got ${quote(version)}` };
  const kind = get(H_KIND);
  if (kind !== "send" && kind !== "push") return { problem: `expected ${H_KIND} send or push, got ${quote(kind)}` };
  const budget = get(H_BUDGET);
  if (!DIGITS.test(budget) || Number(budget) > MAX_BUDGET_MS) {
    return { problem: `expected ${H_BUDGET} an integer of ms in [0, ${MAX_BUDGET_MS}], got ${quote(budget)}` };
  }
  if (body.length > maxBytes) return { problem: `body of ${body.length} bytes exceeds the limit of ${maxBytes}` };
  const parsed = parseJson(body);
  if ("problem" in parsed) return parsed;
  return callOf(parsed.value, kind, Number(budget));
}

/** The call in a parsed `{"from","type","content"?}` body. */
export function callOf(value: unknown, kind: CallKind, budgetMs: number): WireRequest | WireProblem {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { problem: "expected a JSON object body" };
  }
  const { from, type, content } = value as { from?: unknown; type?: unknown; content?: unknown };
  if (typeof from !== "string") return { problem: `expected "from" to be a string, got ${typeof from}` };
  if (typeof type !== "string") return { problem: `expected "type" to be a string, got ${typeof type}` };
  const request: WireRequest = { kind, budgetMs, from, type };
  if (content !== undefined) request.content = content;
  return request;
}

/** The body and code of a reply; data that cannot travel turns the reply into a 500 saying so. */
export function encodeReply(
  service: string,
  reply: Reply,
  maxBytes: number,
): { code: number; message: string; body: Uint8Array } {
  let code = reply.code;
  let message = reply.message;
  let text: string;
  try {
    if (reply.data === undefined) {
      text = JSON.stringify({ message });
    } else {
      assertStrictJson(reply.data, "data", service);
      text = JSON.stringify({ message, data: reply.data });
    }
    const body = encoder.encode(text);
    if (body.length > maxBytes) throw tooLarge("data", body.length, maxBytes, service);
    if (!Number.isInteger(code)) throw new WireEncodeError("code", `${String(code)} is not an integer`, { service });
    return { code, message, body };
  } catch (error) {
    code = 500;
    message = `service "${service}" replied with a value that cannot travel: ${(error as Error).message}`;
    return { code, message, body: encoder.encode(JSON.stringify({ message })) };
  }
}

/** Decodes a reply; a {@link WireProblem} says what was wrong with it. */
export function decodeReply(get: HeaderGet, body: Uint8Array, maxBytes: number): Reply | WireProblem {
  const version = get(H_WIRE);
  if (version !== WIRE_VERSION) return { problem: `expected ${H_WIRE} ${WIRE_VERSION}, got ${quote(version)}` };
  const codeText = get(H_CODE);
  if (!/^-?[0-9]{1,10}$/.test(codeText)) return { problem: `expected ${H_CODE} an integer, got ${quote(codeText)}` };
  if (body.length > maxBytes) return { problem: `body of ${body.length} bytes exceeds the limit of ${maxBytes}` };
  const parsed = parseJson(body);
  if ("problem" in parsed) return parsed;
  const value = parsed.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { problem: "expected a JSON object body" };
  }
  const { message, data } = value as { message?: unknown; data?: unknown };
  if (typeof message !== "string") return { problem: `expected "message" to be a string, got ${typeof message}` };
  const reply: Reply = { code: Number(codeText), message };
  if (data !== undefined) reply.data = data;
  return reply;
}

export function parseJson(body: Uint8Array): { value: unknown } | WireProblem {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return { problem: "body is not valid UTF-8" };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { problem: `body is not JSON (${(error as Error).message})` };
  }
}

/** A header value for a log line or message: quoted, at most 40 characters. */
export function quote(value: string): string {
  if (value === "") return "nothing";
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}

/** The remaining budget of a call, as the header carries it. */
export function budgetHeader(remainingMs: number): string {
  if (!(remainingMs > 0)) return "0";
  return String(Math.min(MAX_BUDGET_MS, Math.floor(remainingMs)));
}
