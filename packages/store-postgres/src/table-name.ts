// The table option: checked identifiers only, quoted for SQL.
import { PostgresStoreError } from "./errors.ts";

/** One unquoted identifier: lower case, as PostgreSQL folds it, and within its 63-byte limit. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** The default table. */
export const DEFAULT_TABLE = "mk_state";

/**
 * Checks a table name (`table` or `schema.table`) and returns it quoted for SQL. Only
 * identifiers are accepted, so no text from the option can change a statement.
 * @throws PostgresStoreError `INVALID_ARGUMENT`.
 */
export function quoteTableName(table: unknown): string {
  const parts = typeof table === "string" ? table.split(".") : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    const shown = typeof table === "string" ? JSON.stringify(table) : typeof table;
    throw new PostgresStoreError(
      "INVALID_ARGUMENT",
      `option table: expected "name" or "schema.name" of lower-case letters, digits and _ (at most 63 each, not starting with a digit), got ${shown}`,
    );
  }
  return parts.map((part) => `"${part}"`).join(".");
}
