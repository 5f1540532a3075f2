// What `wrangler types` cannot see in wrangler.toml: the optional alias of CHANNELS
// and the admin secret (set with `wrangler secret put ADMIN_TOKEN`, or `.dev.vars`).
interface GischatSecretsAndAliases {
  ROOMS?: string;
  ADMIN_TOKEN?: string;
}
interface Env extends GischatSecretsAndAliases {}
declare namespace Cloudflare {
  interface Env extends GischatSecretsAndAliases {}
}

// WebAssembly imported as compiled modules (wrangler's CompiledWasm rule).
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
declare module "*.wasm?module" {
  const module: WebAssembly.Module;
  export default module;
}
