// What the self-hosted build (build.ts) leaves for the start (start.ts): where, and in what shape.
import path from "node:path";

export const PROJECT_DIR = path.resolve(import.meta.dirname, "..");
export const BUILD_DIR = path.join(PROJECT_DIR, "build", "selfhost");
export const MANIFEST_PATH = path.join(BUILD_DIR, "manifest.json");

export type ModuleKind = "esModule" | "wasm";

/** wrangler.toml's values that workerd needs, as wrangler read them at build time. */
export interface Manifest {
  name: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** wrangler.toml's [vars]: the default of each variable the environment does not set. */
  vars: Record<string, string>;
  /** Every variable the Worker's configuration reads (src/server/config.ts CONFIG_VARIABLES): passed from the environment when set. */
  variables: string[];
  durableObjects: { binding: string; className: string; sqlite: boolean }[];
  assets: { directory: string; binding: string; runWorkerFirst: string[] };
  /** The files of wrangler's bundle (in build/selfhost/worker), the main module first. */
  modules: { name: string; kind: ModuleKind }[];
}
