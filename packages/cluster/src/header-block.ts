// Precomputed NATS header blocks for the hot path (a call's headers, the OK reply's).
import type { MsgHdrs } from "@nats-io/transport-node";

const encoder = new TextEncoder();

/**
 * A header block that is already text: the NATS client (3.4.0, pinned) only
 * calls `encode()` on the headers it publishes, so building the few fixed
 * lines by hand spares a header map per message. Values must be printable
 * ASCII without CR/LF (names and integers are).
 */
export function headerBlock(lines: readonly (readonly [string, string])[]): MsgHdrs {
  let text = "NATS/1.0";
  for (const [key, value] of lines) text += `\r\n${key}: ${value}`;
  const bytes = encoder.encode(`${text}\r\n\r\n`);
  return { encode: () => bytes } as unknown as MsgHdrs;
}
