// One structured line per event, for `wrangler tail`, Workers Logs and Logpush
// (observability is on in wrangler.toml). Never a token, a key or a message's text.

type Fields = Record<string, unknown>;

export function logEvent(event: string, fields: Fields = {}): void {
  console.log(JSON.stringify({ event, ...fields, time: new Date().toISOString() }));
}

/** Something failed that a person may have to look at. */
export function logFailure(event: string, error: unknown, fields: Fields = {}): void {
  console.error(JSON.stringify({ event, ...fields, error: String(error), time: new Date().toISOString() }));
}
