// the subjects of a namespace: call, heartbeat, discover, who.
/**
 * The NATS subjects of one cluster namespace (wire format v1). Names may hold
 * dots, which NATS reads as token separators, so a name becomes one token with
 * each `.` written as `~` (a character the name rule never allows).
 *
 * | subject | use |
 * |---|---|
 * | `mk.<ns>.call.<node>.<service>` | a call to `service` on `node` (request, reply to the caller's inbox) |
 * | `mk.<ns>.batch.<node>` | several calls to `node` in one message (see `batch-wire.ts`) |
 * | `mk.<ns>.svc.<service>` | a call to any node running `service` (queue group `mk`: NATS balances; for clients other than mk nodes) |
 * | `mk.<ns>.hb.<node>` | `node`'s heartbeat: what it runs (published every `heartbeatMs` and on change) |
 * | `mk.<ns>.discover` | asks every node to publish its heartbeat now |
 * | `mk.<ns>.who.<node>` | asks whether a live node already uses the name (request) |
 */
export interface Subjects {
  readonly prefix: string;
  /** `mk.<ns>.call.<node>.<service>` */
  call(node: string, service: string): string;
  /** Every call subject of `node` (one wildcard subscription). */
  callsOf(node: string): string;
  /** `mk.<ns>.batch.<node>` */
  batch(node: string): string;
  /** `mk.<ns>.svc.<service>`, served by every node running it in queue group {@link QUEUE_GROUP}. */
  service(service: string): string;
  heartbeat(node: string): string;
  readonly heartbeats: string;
  readonly discover: string;
  who(node: string): string;
}

/** `mk.` + namespace is this many tokens; a call subject has two more. */
const CALL_TOKENS = 5;

/** One subject token for a name (names never hold `~`, `*`, `>` or whitespace). */
export function token(name: string): string {
  return name.includes(".") ? name.replaceAll(".", "~") : name;
}

/** The name a token stands for. */
export function untoken(part: string): string {
  return part.includes("~") ? part.replaceAll("~", ".") : part;
}

export function subjects(namespace: string): Subjects {
  const prefix = `mk.${namespace}`;
  return {
    prefix,
    call: (node, service) => `${prefix}.call.${token(node)}.${token(service)}`,
    callsOf: (node) => `${prefix}.call.${token(node)}.*`,
    batch: (node) => `${prefix}.batch.${token(node)}`,
    service: (service) => `${prefix}.svc.${token(service)}`,
    heartbeat: (node) => `${prefix}.hb.${token(node)}`,
    heartbeats: `${prefix}.hb.*`,
    discover: `${prefix}.discover`,
    who: (node) => `${prefix}.who.${token(node)}`,
  };
}

/** The queue group of the service subjects. */
export const QUEUE_GROUP = "mk";

/**
 * The service a call subject names (`mk.<ns>.call.<node>.<service>` or
 * `mk.<ns>.svc.<service>`), or `undefined` when the subject has neither shape.
 */
export function serviceOfCall(subject: string): string | undefined {
  const parts = subject.split(".");
  if (parts.length === CALL_TOKENS && parts[2] === "call") return untoken(parts[4] as string);
  if (parts.length === CALL_TOKENS - 1 && parts[2] === "svc") return untoken(parts[3] as string);
  return undefined;
}

/** The node token of a heartbeat subject, or `undefined`. */
export function nodeOfHeartbeat(subject: string): string | undefined {
  const parts = subject.split(".");
  if (parts.length !== 4 || parts[2] !== "hb") return undefined;
  return untoken(parts[3] as string);
}
