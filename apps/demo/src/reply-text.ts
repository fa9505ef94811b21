import type { Reply } from "@mk/core";

/** `code 0, echo service handled (from kernel: Hello, Log!)`: a reply as the story prints it. */
export function replyText(reply: Reply): string {
  const data =
    reply.data === undefined ? "" : ` (${typeof reply.data === "string" ? reply.data : JSON.stringify(reply.data)})`;
  return `code ${reply.code}, ${reply.message}${data}`;
}
