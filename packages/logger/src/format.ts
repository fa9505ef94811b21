import { format } from "node:util";

const PERCENT = 37; // "%"

/**
 * `util.format(msg, ...args)`, with a fast path for the common cases (`%s` of a
 * string or number, `%d`/`%i`/`%f` of a number, `%%`, exactly as many arguments as
 * specifiers). Anything else goes to `util.format` itself, so the result is always
 * what `util.format` gives (the property tests check this).
 */
export function formatMessage(msg: string, args: readonly unknown[]): string {
  const n = args.length;
  if (n === 0) return msg; // util.format with one argument returns it untouched ("%%" stays "%%")
  const template = templateOf(msg);
  if (template !== undefined && template.specs.length === n) {
    const { parts, specs } = template;
    let out = parts[0] as string;
    for (let k = 0; k < n; k++) {
      const piece = fastPiece(specs[k] as number, args[k]);
      if (piece === undefined) return format(msg, ...args);
      out += piece + (parts[k + 1] as string);
    }
    return out;
  }
  return scanFormat(msg, args);
}

// Messages are mostly string literals, so each is parsed once: its literal parts
// (with "%%" already turned into "%") around its %s/%d/%i/%f specifiers.
// A message with %j %o %O %c is not cached (util.format handles it).
interface Template {
  readonly parts: readonly string[];
  readonly specs: readonly number[];
}

const templates = new Map<string, Template | null>();
const MAX_TEMPLATES = 2048; // messages built at run time must not grow the cache without bound

function templateOf(msg: string): Template | undefined {
  const cached = templates.get(msg);
  if (cached !== undefined) return cached ?? undefined;
  const template = compile(msg);
  if (templates.size < MAX_TEMPLATES) templates.set(msg, template);
  return template ?? undefined;
}

function compile(msg: string): Template | null {
  const parts: string[] = [];
  const specs: number[] = [];
  let part = "";
  let last = 0;
  const len = msg.length;
  for (let i = 0; i < len - 1; i++) {
    if (msg.charCodeAt(i) !== PERCENT) continue;
    const c = msg.charCodeAt(i + 1);
    if (c === PERCENT) {
      part += msg.slice(last, i) + "%";
    } else if (c === 115 || c === 100 || c === 105 || c === 102) {
      parts.push(part + msg.slice(last, i));
      specs.push(c);
      part = "";
    } else if (c === 106 || c === 111 || c === 79 || c === 99) {
      return null;
    } else {
      continue;
    }
    last = i + 2;
    i++;
  }
  parts.push(part + msg.slice(last));
  return { parts, specs };
}

// The general case (fewer arguments than specifiers, or an uncacheable message).
function scanFormat(msg: string, args: readonly unknown[]): string {
  const n = args.length;
  let out = "";
  let last = 0;
  let a = 0;
  const len = msg.length;
  for (let i = 0; i < len - 1; i++) {
    if (msg.charCodeAt(i) !== PERCENT) continue;
    const c = msg.charCodeAt(i + 1);
    if (c === PERCENT) {
      out += msg.slice(last, i) + "%";
      last = i + 2;
      i++;
      continue;
    }
    let piece: string | undefined;
    // s d i f j o O c consume an argument
    if (c === 115 /* s */ || c === 100 /* d */ || c === 105 /* i */ || c === 102 /* f */) {
      if (a >= n) continue; // util.format leaves a specifier without an argument as is
      piece = fastPiece(c, args[a]);
      if (piece === undefined) return format(msg, ...args);
    } else if (c === 106 /* j */ || c === 111 /* o */ || c === 79 /* O */ || c === 99 /* c */) {
      if (a >= n) continue;
      return format(msg, ...args);
    } else {
      continue;
    }
    a++;
    out += msg.slice(last, i) + piece;
    last = i + 2;
    i++;
  }
  if (a !== n) return format(msg, ...args); // leftovers are appended with inspect()
  return last === 0 ? msg : out + msg.slice(last);
}

function fastPiece(spec: number, arg: unknown): string | undefined {
  if (typeof arg === "string") return spec === 115 ? arg : undefined;
  if (typeof arg !== "number" || Object.is(arg, -0)) return undefined;
  // %i is parseInt(): only safe integers print the same as String()
  if (spec === 105 && !Number.isSafeInteger(arg)) return undefined;
  return "" + arg;
}

/**
 * How many arguments the specifiers in `msg` would consume (`%s %d %i %f %j %o %O %c`;
 * `%%` consumes none). Used to tell a trailing fields object from a printf argument.
 */
export function countSpecifiers(msg: string): number {
  let count = 0;
  const len = msg.length;
  for (let i = msg.indexOf("%"); i !== -1 && i < len - 1; i = msg.indexOf("%", i + 1)) {
    const c = msg.charCodeAt(i + 1);
    if (c === PERCENT) {
      i++;
    } else if (c === 115 || c === 100 || c === 105 || c === 102 || c === 106 || c === 111 || c === 79 || c === 99) {
      count++;
      i++;
    }
  }
  return count;
}

/** A plain object: `{...}` or `Object.create(null)`, not an array, Date, Error, Map, class instance… */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  let proto: unknown;
  try {
    proto = Object.getPrototypeOf(value);
  } catch {
    return false; // a Proxy whose getPrototypeOf trap throws is no plain object of fields
  }
  return proto === Object.prototype || proto === null;
}
