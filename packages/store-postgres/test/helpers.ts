import { uniqueName } from "@mk/test-servers";

export { crypter, otherKey, rejection } from "@mk/test-servers";

/** A table name no other test in this process uses. */
export function uniqueTable(prefix = "t"): string {
  return uniqueName(prefix);
}
