import type { Command } from "../command.ts";
import { DevWatcher } from "../dev/dev-watcher.ts";
import { Snapshots } from "../dev/snapshots.ts";
import { BOOT_HELP, BOOT_OPTIONS } from "./common-options.ts";
import { startKernel } from "./run.ts";

export const devCommand: Command = {
  name: "dev",
  summary: "run, and hot-swap a service whenever its module or a file it imports changes",
  usage: "dev [CONFIG] [--allow-downgrade] [--from-config] [--json]",
  details: [
    "Changes within a short burst are coalesced into one swap per service. The new code is loaded afresh:",
    'a new isolate for mode "thread"/"process", a fresh module graph (jiti) for in-process services.',
    "Calls during a swap wait and go to the new version; its state is carried over. If the new code fails",
    "to load, import or start, the old version keeps serving and the error is printed with its stack.",
  ],
  options: BOOT_OPTIONS,
  optionHelp: BOOT_HELP,
  examples: ["mk dev", "mk dev ./examples/mk.config.ts"],
  positionals: [0, 1],
  async run(positionals, flags, context) {
    const running = await startKernel(positionals, flags, context, "mk dev");
    const watcher = new DevWatcher(running.runtime, running.runtime.log, (text) => context.stderr.write(text));
    await watcher.start();
    running.runtime.onShutdown(() => watcher.stop());
    const code = await running.done;
    await watcher.stop();
    await new Snapshots(running.runtime.configDir).clear();
    await running.runtime.logger.close?.();
    return code;
  },
};
