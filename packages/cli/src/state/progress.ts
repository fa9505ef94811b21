import { SingleBar } from "cli-progress";
import type { CommandContext } from "../command.ts";

/** Progress over many states: a bar on a terminal, one plain line per item otherwise. */
export interface Progress {
  /** One item done. */
  tick(name: string): void;
  /** A line that must not be lost under the bar (a bad file). */
  note(line: string): void;
  stop(): void;
}

/**
 * A progress bar (cli-progress) on stderr when it is a terminal and `total` is worth one;
 * otherwise plain `verb i/total name` lines on stderr, so logs and `--json` stdout stay clean.
 */
export function progress(context: CommandContext, verb: string, total: number): Progress {
  const tty = context.stderr.isTTY === true && context.env["CI"] === undefined;
  if (!tty) {
    let done = 0;
    return {
      tick: (name) => context.stderr.write(`${verb} ${++done}/${total} ${name}\n`),
      note: (line) => context.stderr.write(`${line}\n`),
      stop: () => undefined,
    };
  }
  const bar = new SingleBar({
    format: `${verb} [{bar}] {value}/{total} {name}`,
    stream: context.stderr as NodeJS.WritableStream & NodeJS.WriteStream,
    hideCursor: true,
    clearOnComplete: false,
  });
  bar.start(total, 0, { name: "" });
  return {
    tick: (name) => bar.increment(1, { name }),
    note: (line) => {
      // Written above the bar: cli-progress redraws it on the next tick.
      context.stderr.write(`\r\x1b[2K${line}\n`);
    },
    stop: () => bar.stop(),
  };
}
