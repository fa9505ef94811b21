import type { StateLoadFailedError } from "@mk/core";
import { CryptoError } from "@mk/crypto";
import { StateError } from "@mk/state";
import { DemoError, describeError, findCause } from "./errors.ts";
import { stateFile } from "./state-files.ts";

const LEFT = "the file was left in place";

/**
 * Turns the kernel's "could not load the saved state" into one line a user
 * can act on: which file, the most telling reason (the crypter's, else the
 * store's, else the service's import), and what to do about it.
 */
export function explainLoadFailure(error: StateLoadFailedError, name: string, stateDir: string): DemoError {
  const crypto = findCause(error, CryptoError);
  const store = findCause(error, StateError);
  const file = store?.path ?? stateFile(stateDir, name);
  const options = { cause: error, exitCode: 1 };

  if (store?.code === "UNSAFE_DIR") {
    return new DemoError(`${store.message} [${store.code}]`, {
      ...options,
      hint: "or choose another --state-dir; nothing was read or changed",
    });
  }
  const reason = crypto ?? store;
  const because = reason === undefined ? describeError(error.cause) : `${reason.message} [${reason.code}]`;
  const message = `cannot load the saved state of ${name} from ${file}: ${because}`;
  if (crypto?.code === "AUTH_FAILED" || crypto?.code === "UNKNOWN_KEY") {
    return new DemoError(message, {
      ...options,
      hint: `wrong MK_STATE_KEY? if not, the file was damaged or changed; run with --reset to start over; ${LEFT}`,
    });
  }
  if (crypto?.code === "BAD_MAGIC" || store?.code === "STATE_UNKNOWN_FORMAT") {
    return new DemoError(message, {
      ...options,
      hint: `a file of the reference Go program? import it with --import-legacy DIR; else run with --reset to start over; ${LEFT}`,
    });
  }
  if (reason === undefined) {
    // The store opened the file; the service refused what was in it.
    return new DemoError(message, {
      ...options,
      hint: `the file opened but does not hold a state this version understands; run with --reset to start over; ${LEFT}`,
    });
  }
  return new DemoError(message, { ...options, hint: `run with --reset to start over; ${LEFT}` });
}
