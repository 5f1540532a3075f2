// The two HTML pages (the browser client at / and the API docs at /docs) are
// static files; the Worker fetches them from the assets binding only to put a
// strict Content-Security-Policy on them. Chat messages carry text from anyone:
// the client renders it as text, and the policy is the second line of defence
// (no inline script, no eval, nothing loaded from elsewhere).

export type Page = "client" | "docs";

/**
 * A host CSP can name (letters, digits, hyphens, dots): behind a reverse proxy the Host may be
 * the proxy's upstream name, such as gischat's nginx block's `gischat_upstream`, which it cannot.
 */
const CSP_HOST = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d+)?$/;

/**
 * The policy of one page. `connect-src` names the WebSocket origin too, when CSP can spell the
 * host: not every browser counts ws(s) as 'self'.
 */
export function contentSecurityPolicy(page: Page, url: URL): string {
  const socketOrigin = CSP_HOST.test(url.host) ? ` ${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}` : "";
  const directives: Record<string, string> = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    // data: for chat images (data:image/png;base64,…); OpenStreetMap tiles are an
    // opt-in background of the map (the client works without them, offline).
    "img-src": page === "client" ? "'self' data: https://tile.openstreetmap.org" : "'self' data:",
    "connect-src": page === "client" ? `'self'${socketOrigin}` : "'self'",
    "font-src": "'self'",
    "base-uri": "'none'",
    "form-action": "'none'",
    "frame-ancestors": "'none'",
  };
  return Object.entries(directives)
    .map(([directive, value]) => `${directive} ${value}`)
    .join("; ");
}

/**
 * The page's file as the assets binding serves it, with the page's security headers
 * added; `assetPath` when the page is served at another path (a space's /s/{key}/).
 */
export async function servePage(page: Page, request: Request, assets: Fetcher, assetPath?: string): Promise<Response> {
  const asset = await assets.fetch(assetPath === undefined ? request : new Request(new URL(assetPath, request.url), request));
  const response = new Response(asset.body, asset);
  response.headers.set("Content-Security-Policy", contentSecurityPolicy(page, new URL(request.url)));
  response.headers.set("X-Content-Type-Options", "nosniff");
  response.headers.set("Referrer-Policy", "strict-origin-when-cross-origin");
  return response;
}
