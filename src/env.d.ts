// What `wrangler types` cannot see in wrangler.toml: the optional alias of CHANNELS,
// the secrets (set with `wrangler secret put ADMIN_TOKEN`, or `.dev.vars`), and the
// var that only `wrangler dev` and the tests set (never in production's [vars]).
interface GischatSecretsAndAliases {
  ROOMS?: string;
  ADMIN_TOKEN?: string;
  MATRIX_PING_TOKEN?: string;
  WEBHOOK_ALLOW_HTTP_LOCAL?: string;
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
