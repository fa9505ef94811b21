import type { ViteUserConfig } from "vitest/config";
import { mkVitestConfig } from "../../vitest.shared.ts";

// initdb and a server start take seconds on a loaded machine.
const config: ViteUserConfig = mkVitestConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
export default config;
