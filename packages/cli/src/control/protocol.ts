/** One request on the control socket (one JSON line per connection). */
export type ControlRequest =
  | { op: "ps" }
  | { op: "swap"; name: string; module: string; export?: string; version?: string }
  | { op: "stop"; name: string }
  | { op: "start"; name: string }
  | { op: "checkpoint" }
  | { op: "log-level"; level: string; name?: string };

/** The one JSON line the kernel answers with. */
export type ControlResponse =
  { ok: true; data?: unknown } | { ok: false; error: { code: string; message: string; stack?: string } };

/** Largest request or response line accepted. */
export const MAX_LINE: number = 4 * 1024 * 1024;

const OPS: ReadonlySet<string> = new Set(["ps", "swap", "stop", "start", "checkpoint", "log-level"]);

/** Checks a parsed request line; returns why it is not a request, or the request. */
export function parseRequest(value: unknown): ControlRequest | string {
  if (typeof value !== "object" || value === null) return "expected a JSON object";
  const r = value as Record<string, unknown>;
  if (typeof r["op"] !== "string" || !OPS.has(r["op"])) return `unknown op ${JSON.stringify(r["op"])}`;
  const strings = (...keys: string[]): boolean => keys.every((k) => typeof r[k] === "string" && r[k] !== "");
  switch (r["op"]) {
    case "swap":
      if (
        !strings("name", "module") ||
        (r["export"] !== undefined && !strings("export")) ||
        (r["version"] !== undefined && !strings("version"))
      )
        return "swap expects name and module";
      break;
    case "stop":
    case "start":
      if (!strings("name")) return `${r["op"]} expects a name`;
      break;
    case "log-level":
      if (!strings("level") || (r["name"] !== undefined && !strings("name"))) return "log-level expects a level";
      break;
  }
  return r as ControlRequest;
}
