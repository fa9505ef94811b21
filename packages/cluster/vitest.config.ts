import type { ViteUserConfig } from "vitest/config";
import { mkVitestConfig } from "../../vitest.shared.ts";

const config: ViteUserConfig = mkVitestConfig();
export default config;
