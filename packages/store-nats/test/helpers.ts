import { uniqueName } from "@mk/test-servers";

export { crypter, otherKey, rejection } from "@mk/test-servers";

/** A bucket name no other test in this process uses. */
export function uniqueBucket(prefix = "b"): string {
  return uniqueName(prefix);
}
