// the takeover's version check: code older than the version that saved the state must not take it over.
import { compareVersions } from "@mk/core";

/** Longest version string kept from the wire (heartbeats, lease values); a longer one is treated as unknown. */
export const MAX_VERSION_LENGTH = 256;

/**
 * True when `local` is known to be older than `saved`: both are semantic
 * versions (SemVer 2.0.0, compared as the kernel does for its "state saved by
 * a newer version" warning: a pre-release precedes its release, build
 * metadata is ignored, a leading `v` is allowed) and `local` precedes `saved`.
 *
 * Anything that cannot be ordered is not "older": no version on either side,
 * or one that is not a semantic version (`"1"`, `"banana"`, `""`). The check
 * cannot tell those apart, and refusing them would leave a service that never
 * declared semantic versions without any node to take it over; like the
 * kernel's warning and `mk run`'s boot check, it lets them through.
 *
 * @example olderThan("1.0.0", "2.0.0") // true
 * @example olderThan("2.0.0-rc.1", "2.0.0") // true
 * @example olderThan("1", "2.0.0") // false: "1" is not a semantic version
 */
export function olderThan(local: string | undefined, saved: string | undefined): boolean {
  if (local === undefined || saved === undefined) return false;
  return (compareVersions(local, saved) ?? 0) < 0;
}

/** A version string from the wire, or `undefined` when it is absent or not a short string. */
export function wireVersion(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_VERSION_LENGTH ? value : undefined;
}
