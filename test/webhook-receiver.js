// The receiver the webhook and Matrix tests deliver to: a Worker of its own, declared
// in vitest.config.ts as the main Worker's outbound service, so that every fetch the
// room makes (to https://<anything>) arrives here as a real HTTP request, in another
// Worker, with its own headers and body. It records what it receives and answers as a
// test told it to, per host name (each test uses its own, e.g. https://t-<uuid>.hooks.test):
//
//   POST https://<host>/__control  {"fail": 3, "status": 503}   the next 3 requests answer 503
//                                  {"fail": -1, "status": 500}  every request does, until told otherwise
//   GET  https://<host>/__records                               what <host> received, oldest first
//
// Anything else is recorded and answered 200 (or as told). Plain JavaScript: miniflare
// runs an auxiliary Worker's modules as they are, without the main Worker's bundling.

/** @type {Map<string, {method: string, url: string, headers: Record<string, string>, body: string, answered: number}[]>} */
const records = new Map();
/** @type {Map<string, {fail: number, status: number}>} */
const behaviours = new Map();

export default {
  /** @param {Request} request */
  async fetch(request) {
    const url = new URL(request.url);
    const host = url.hostname;
    if (url.pathname === "/__control") {
      const { fail = 0, status = 500 } = await request.json();
      behaviours.set(host, { fail, status });
      return Response.json({ ok: true });
    }
    if (url.pathname === "/__records") return Response.json(records.get(host) ?? []);
    const behaviour = behaviours.get(host);
    let answered = 200;
    if (behaviour !== undefined && behaviour.fail !== 0) {
      answered = behaviour.status;
      if (behaviour.fail > 0) behaviour.fail--;
    }
    const list = records.get(host) ?? [];
    list.push({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
      answered,
    });
    records.set(host, list);
    return new Response(answered < 300 ? "ok" : "failing as told", { status: answered });
  },
};
