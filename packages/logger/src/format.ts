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
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
