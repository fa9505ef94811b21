/**
 * Semantic Versioning 2.0.0 precedence (semver.org, section 11), for the
 * "state saved by a newer version" warning: no range syntax, no coercion.
 * Exported so that other packages (the cluster's "older code must not take
 * over newer state" check) order versions exactly as the kernel does.
 */

const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

interface Parsed {
  core: [bigint, bigint, bigint];
  pre: string[];
}

function parse(version: string): Parsed | undefined {
  const m = SEMVER.exec(version);
  if (m === null) return undefined;
  return {
    core: [BigInt(m[1] as string), BigInt(m[2] as string), BigInt(m[3] as string)],
    pre: m[4] === undefined ? [] : m[4].split("."),
  };
}

/**
 * Negative when `a` precedes `b`, positive when it follows, 0 when they have
 * the same precedence (build metadata is ignored); `undefined` when either is
 * not a semantic version.
 * @example compareVersions("2.0.0-rc.1", "2.0.0") // < 0
 */
export function compareVersions(a: string, b: string): number | undefined {
  const x = parse(a);
  const y = parse(b);
  if (x === undefined || y === undefined) return undefined;
  for (let i = 0; i < 3; i++) {
    const d = (x.core[i] as bigint) - (y.core[i] as bigint);
    if (d !== 0n) return d < 0n ? -1 : 1;
  }
  // A pre-release precedes its release.
  if (x.pre.length === 0 && y.pre.length === 0) return 0;
  if (x.pre.length === 0) return 1;
  if (y.pre.length === 0) return -1;
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const c = comparePre(x.pre[i] as string, y.pre[i] as string);
    if (c !== 0) return c;
  }
  return Math.sign(x.pre.length - y.pre.length);
}

function comparePre(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) {
    const d = BigInt(a) - BigInt(b);
    return d === 0n ? 0 : d < 0n ? -1 : 1;
  }
  // Numeric identifiers have lower precedence than alphanumeric ones.
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
