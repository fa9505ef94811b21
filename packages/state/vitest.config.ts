import { mkVitestConfig } from "../../vitest.shared.ts";

export default mkVitestConfig();
