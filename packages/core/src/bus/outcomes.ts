import { types } from "node:util";
import type { Logger } from "@mk/logger";
import type { Reply } from "../types.ts";
import type { Endpoint } from "./endpoint.ts";
import { handlerFailed, invalidReply, isReply, noHandler, notRunning } from "./replies.ts";

/**
 * What a delivery came to, counted on the endpoint: the handler's reply, its
 * failure, or a refusal. Shared by the bus's direct and tracked deliveries.
 */

/** The endpoint cannot take the call now (not running, or no handler): 404, counted as refused. */
export function refused(endpoint: Endpoint, to: string): Reply {
  endpoint.stats.refused++;
  return endpoint.status === "running" ? noHandler(to) : notRunning(to, endpoint.status);
}

/** The handler returned `value`: the reply itself, or 500 when it is not one. */
export function replied(endpoint: Endpoint, to: string, type: string, value: unknown, logger: Logger): Reply {
  if (isReply(value)) {
    endpoint.stats.handled++;
    return value;
  }
  endpoint.stats.failed++;
  const reply = invalidReply(to, type, value);
  logger.warn("%s", reply.message);
  return reply;
}

/** The handler threw or rejected with `error` (any value): 500 saying why. */
export function failed(endpoint: Endpoint, to: string, type: string, error: unknown, logger: Logger): Reply {
  endpoint.stats.failed++;
  const reply = handlerFailed(to, type, error);
  // An Error goes to the logger too, so the line has its stack (@mk/logger records it as
  // `err`, as pino does). isNativeError runs no user code (a Proxy or a getter cannot throw here).
  if (types.isNativeError(error)) logger.warn("%s", reply.message, error);
  else logger.warn("%s", reply.message);
  return reply;
}
