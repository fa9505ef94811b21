export type { Crypter } from "./crypter.ts";
