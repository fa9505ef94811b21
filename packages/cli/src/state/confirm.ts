import { createInterface } from "node:readline/promises";
import type { CommandContext, Flags } from "../command.ts";
import { CliError } from "../errors.ts";

/**
 * Asks before a write: `--yes` answers for scripts; on a terminal the user types y; without
 * a terminal and without `--yes` nothing is written.
 * @throws {CliError} `NOT_CONFIRMED`
 */
export async function confirm(question: string, flags: Flags, context: CommandContext): Promise<void> {
  if (flags["yes"] === true) return;
  if (context.stdin.isTTY !== true) {
    throw new CliError("NOT_CONFIRMED", `${question}: not confirmed, nothing was written`, {
      hint: "add --yes to confirm without a terminal",
    });
  }
  const rl = createInterface({ input: context.stdin, output: context.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== "y" && answer !== "yes") {
      throw new CliError("NOT_CONFIRMED", `${question}: declined, nothing was written`);
    }
  } finally {
    rl.close();
  }
}
