import { hostname } from "node:os";
import { types } from "node:util";
import { serializeError } from "./error-serializer.ts";
import { LEVEL_VALUES } from "./levels.ts";
import { formatTimestamp } from "./timestamp.ts";
import type { Level, LogRecord } from "./types.ts";

const UPPER: Readonly<Record<Level, string>> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARN",
  error: "ERROR",
  fatal: "FATAL",
};

/**
 * `[YYYY-MM-DD HH:mm:ss.SSS] [LEVEL] [service] message`, then ` {fields as JSON}` if any, then "\n".
 * Control characters in the caller's parts are escaped (see `escapeControls`), so a record is
 * always exactly one line and cannot forge another one or reach a terminal as a control sequence.
 */
export function textLine(record: LogRecord): string {
  const level = UPPER[record.level] ?? String(record.level).toUpperCase();
  let line = "[" + formatTimestamp(record.time) + "] [" + level + "] [" + record.service + "] " + record.message;
  const fields = record.fields;
  if (fields !== undefined && hasKeys(fields)) line += " " + jsonValue(fields);
  // The stamp and the brackets never contain a control character, so one check of the
  // whole line covers the level, service, message and fields (JSON leaves C1 and U+2028/9 raw).
  return escapeControls(line) + "\n";
}

// C0 (newline, CR, tab, ESC…), DEL, C1 (0x80–0x9f, e.g. the 8-bit CSI 0x9b) and the
// Unicode line and paragraph separators: everything that can end a line in some reader
// or start a terminal control sequence.
// oxlint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// oxlint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeOne(char: string): string {
  return SHORT[char] ?? "\\u" + char.charCodeAt(0).toString(16).padStart(4, "0");
}

/**
 * `text` with every control character written as an escape: `\n`, `\r`, `\t`, others as
 * `\u001b`-style (C0, DEL, C1, U+2028, U+2029). Other characters, the backslash included,
 * are left as they are. The common case (nothing to escape) costs one regex test.
 */
export function escapeControls(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROLS, escapeOne) : text;
}

// JSON-escaped service names, so the hot path skips JSON.stringify; bounded
// because service names come from users.
const serviceJson = new Map<string, string>();

function jsonService(service: string): string {
  let json = serviceJson.get(service);
  if (json === undefined) {
    json = JSON.stringify(String(service));
    if (serviceJson.size >= 1024) serviceJson.clear();
    serviceJson.set(service, json);
  }
  return json;
}

// Number-to-string of a 13-digit time is a cache miss in V8 on every new ms;
// as for the text stamp, the seconds are converted once per second.
const MS3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
let lastSecond = -1;
let lastSecondText = "";

function epochMs(time: number): string {
  if (!Number.isSafeInteger(time) || time < 1000) return Number.isFinite(time) ? String(time) : "null";
  const second = Math.floor(time / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastSecondText = String(second);
  }
  return lastSecondText + (MS3[time - second * 1000] as string);
}

// JSON.stringify of a short string costs several times a regex test, and log
// messages rarely need escaping: quote them directly when nothing needs it.
// JSON escapes U+0000–U+001F, so the control characters are the point here.
// oxlint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

function quote(text: string): string {
  return text.length <= 256 && !NEEDS_ESCAPE.test(text) ? '"' + text + '"' : JSON.stringify(text);
}

const RESERVED: ReadonlySet<string> = new Set(["level", "time", "service", "msg"]);

/**
 * The fields every JSON record carries after `level` and `time`, already as JSON text
 * (`,"pid":123,"hostname":"web-1"`), and the names fields may then not use.
 */
export interface JsonBase {
  readonly text: string;
  readonly reserved: ReadonlySet<string>;
}

const NO_BASE: JsonBase = { text: "", reserved: RESERVED };
let defaultBase: JsonBase | undefined;

/**
 * pino's `base`: `undefined` gives `{ pid, hostname }` of this process (as pino), `null` none,
 * an object those fields (values as JSON; names level, time, service and msg are skipped).
 */
export function jsonBase(base: Readonly<Record<string, unknown>> | null | undefined): JsonBase {
  if (base === null) return NO_BASE;
  if (base === undefined) return (defaultBase ??= jsonBase({ pid: process.pid, hostname: hostname() }));
  let text = "";
  const reserved = new Set(RESERVED);
  for (const key of Object.keys(base)) {
    if (RESERVED.has(key)) continue;
    const value = jsonValue(base[key]);
    if (value === undefined) continue;
    text += "," + JSON.stringify(key) + ":" + value;
    reserved.add(key);
  }
  return text === "" ? NO_BASE : { text, reserved };
}

/**
 * One JSON line with pino's field names:
 * `{"level":30,"time":<epoch ms>,"pid":…,"hostname":…,"service":"…",…fields,"msg":"…"}`.
 * Fields named level, time, service, msg or like a base field are left out (the record's own win).
 * Without `base`, no pid or hostname (the sinks pass theirs; see `jsonBase`).
 */
export function jsonLine(record: LogRecord, base: JsonBase = NO_BASE): string {
  return jsonObject(record, base) + "\n";
}

/** `jsonLine` without the newline. */
export function jsonObject(record: LogRecord, base: JsonBase = NO_BASE): string {
  const t = record.time;
  const time = typeof t === "number" ? t : t instanceof Date ? t.getTime() : Number.NaN;
  let line =
    '{"level":' +
    (LEVEL_VALUES[record.level] ?? 30) +
    ',"time":' +
    epochMs(time) +
    base.text +
    ',"service":' +
    jsonService(record.service);
  const fields = record.fields;
  if (fields !== undefined) line += jsonFields(fields, base.reserved);
  return line + ',"msg":' + quote(String(record.message)) + "}";
}

/** `,"key":value` for each own field that is not reserved and serializes to something. */
function jsonFields(fields: Record<string, unknown>, reserved: ReadonlySet<string>): string {
  let out = "";
  for (const key in fields) {
    if (reserved.has(key) || !Object.prototype.hasOwnProperty.call(fields, key)) continue;
    const value = jsonValue(fields[key]);
    if (value !== undefined) out += "," + JSON.stringify(key) + ":" + value;
  }
  return out;
}

function hasKeys(object: object): boolean {
  for (const key in object) if (Object.prototype.hasOwnProperty.call(object, key)) return true;
  return false;
}

// Errors become pino's err layout (see error-serializer.ts), wherever they are in the
// fields; bigints become strings instead of throwing.
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "object" && value !== null && (value instanceof Error || types.isNativeError(value))) {
    return serializeError(value as Error);
  }
  return value;
}

/** JSON of any value; never throws (a circular or hostile value becomes a string saying why). */
export function jsonValue(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, replacer);
  } catch (error) {
    return JSON.stringify(`[unserializable: ${error instanceof Error ? error.message : String(error)}]`);
  }
}
