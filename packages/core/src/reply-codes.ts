/** The one table of reply codes (an HTTP-like subset, as in the reference). */
export const ReplyCode = {
  OK: 0,
  /** No such service, or it is not running. */
  NOT_FOUND: 404,
  /** No reply before the deadline. */
  TIMEOUT: 408,
  /** The handler threw or rejected. */
  HANDLER_FAILED: 500,
  /** The push queue is full. */
  QUEUE_FULL: 503,
} as const;

export type ReplyCodeValue = (typeof ReplyCode)[keyof typeof ReplyCode];
