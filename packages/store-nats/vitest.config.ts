import type { ViteUserConfig } from "vitest/config";
import { mkVitestConfig } from "../../vitest.shared.ts";

// Every suite starts its own nats-server (a start take seconds on a loaded machine).
const config: ViteUserConfig = mkVitestConfig({ testTimeout: 120_000, hookTimeout: 180_000 });
export default config;
