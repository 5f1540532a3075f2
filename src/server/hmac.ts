// HMAC-SHA256 of a webhook's raw body under its secret, as the header a receiver
// checks: `X-Gischat-Signature: sha256=<hex>` (the form GitHub's webhooks use, so
// that existing verifiers and `openssl dgst -sha256 -hmac` read it as is).
const encoder = new TextEncoder();

/** Imported keys, by secret: a room signs every delivery to an endpoint with the same one. */
const keys = new Map<string, Promise<CryptoKey>>();
const MAX_CACHED_KEYS = 64;

function keyFor(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

/** The lowercase hex HMAC-SHA256 of `body` (its UTF-8 bytes) under `secret`. */
export async function hmacSha256Hex(secret: string, body: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await keyFor(secret), encoder.encode(body)));
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The signature header's value for this body. */
export async function signatureHeader(secret: string, body: string): Promise<string> {
  return `sha256=${await hmacSha256Hex(secret, body)}`;
}

/** A fresh secret for a webhook registered without one: 256 random bits, hex. */
export function newWebhookSecret(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
