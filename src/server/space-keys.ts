// The keys of private spaces and the tokens of their owners.
//
// A space key is what a community types as its instance URL (`https://host/s/{key}`),
// so it is its only credential: 16 random bytes of space id, the key's version (a
// rotation bumps it) and an HMAC-SHA256 of both under the instance's own secret,
// base64url (48 characters, 256 bits of which 128 random and 128 MAC). The Worker
// checks the MAC itself, in constant time, so a wrong key is answered like a path that
// does not exist without waking any Durable Object: a scanner trying keys costs
// nothing. The secret is made by the Directory object on first use and kept there.
//
// An owner token is 32 random bytes, base64url; only its SHA-256 is stored.

const ID_BYTES = 16;
const VERSION_BYTES = 4;
const MAC_BYTES = 16;
const KEY_BYTES = ID_BYTES + VERSION_BYTES + MAC_BYTES;

export interface SpaceKey {
  spaceId: string;
  version: number;
}

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

export function newSpaceId(): string {
  return toBase64Url(randomBytes(ID_BYTES));
}

export async function signSpaceKey(secret: CryptoKey, { spaceId, version }: SpaceKey): Promise<string> {
  const body = keyBody(spaceId, version);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", secret, body)).subarray(0, MAC_BYTES);
  return toBase64Url(concat(body, mac));
}

/** The space and version a key names, if its MAC is right; undefined for anything else. */
export async function verifySpaceKey(secret: CryptoKey, key: string): Promise<SpaceKey | undefined> {
  const bytes = fromBase64Url(key);
  if (bytes === undefined || bytes.length !== KEY_BYTES) return undefined;
  const body = bytes.subarray(0, ID_BYTES + VERSION_BYTES);
  const expected = new Uint8Array(await crypto.subtle.sign("HMAC", secret, body)).subarray(0, MAC_BYTES);
  if (!constantTimeEqual(expected, bytes.subarray(ID_BYTES + VERSION_BYTES))) return undefined;
  const version = new DataView(body.buffer, body.byteOffset + ID_BYTES, VERSION_BYTES).getUint32(0);
  return { spaceId: toBase64Url(body.subarray(0, ID_BYTES)), version };
}

export function importSecret(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

export function newOwnerToken(): string {
  return toBase64Url(randomBytes(32));
}

export async function sha256(text: string): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

/** Whether `token` hashes to `hash`, compared in constant time. */
export async function tokenMatches(token: string, hash: string): Promise<boolean> {
  const a = new TextEncoder().encode(await sha256(token));
  const b = new TextEncoder().encode(hash);
  return a.length === b.length && constantTimeEqual(a, b);
}

function keyBody(spaceId: string, version: number): Uint8Array {
  const id = fromBase64Url(spaceId);
  if (id === undefined || id.length !== ID_BYTES) throw new Error("not a space id");
  const body = new Uint8Array(ID_BYTES + VERSION_BYTES);
  body.set(id);
  new DataView(body.buffer).setUint32(ID_BYTES, version);
  return body;
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}
