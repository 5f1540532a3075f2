// Webhooks end to end: a real `wrangler dev` (the same runtime as production) delivers
// a room's messages to a real HTTP receiver on 127.0.0.1 (tools/webhook-receiver.ts),
// which checks each signature as a bot would, with node:crypto and with the README's
// openssl line; a failing receiver gets the same delivery again after the backoff.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookReceiver } from "../tools/webhook-receiver.ts";
import { DevServer } from "./server.ts";

const ROOM = "e2e-hooks";
const ADMIN_TOKEN = "e2e-admin-token";
const SECRET = "e2e-webhook-secret-0123456789";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let server: DevServer;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await WebhookReceiver.start(SECRET);
  // WEBHOOK_ALLOW_HTTP_LOCAL: the receiver is http://127.0.0.1, as a bot under development is.
  server = await DevServer.start([ROOM], { ADMIN_TOKEN, WEBHOOK_ALLOW_HTTP_LOCAL: "true" });
});

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
});

async function putText(text: string): Promise<{ id: string }> {
  const response = await fetch(`${server.baseUrl}/channel/${ROOM}/text`, {
    method: "PUT",
    body: JSON.stringify({ author: "bot_e2e", text }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { id: string };
}

describe("webhooks under wrangler dev", () => {
  it("delivers a text, signed with the secret, to a receiver on 127.0.0.1; a failed delivery comes again with the same id", async () => {
    const registered = await fetch(`${server.baseUrl}/room/${ROOM}/webhooks`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ url: receiver.url("/gischat"), secret: SECRET }),
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    expect(JSON.stringify(await registered.json())).not.toContain(SECRET);

    const posted = await putText("hello from the end-to-end test");
    const [first] = await receiver.waitFor(1, 10_000);
    if (first === undefined) throw new Error("nothing delivered");
    expect(first.path).toBe("/gischat");
    expect(first.headers["content-type"]).toBe("application/json");
    expect(first.headers["x-gischat-delivery"]).toMatch(UUID);
    expect(first.signatureValid, `signature ${first.headers["x-gischat-signature"]}`).toBe(true);
    expect(JSON.parse(first.body)).toEqual({
      type: "text",
      author: "bot_e2e",
      avatar: null,
      text: "hello from the end-to-end test",
      id: posted.id,
      timestamp: expect.any(Number),
      room: ROOM,
      space: null,
    });

    // The README's check, in shell, word for word: openssl over the raw body gives the header.
    const script = `body=$(cat)
expected="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" | sed 's/^.* //')"
printf '%s' "$expected"`;
    const expected = execFileSync("sh", ["-c", script], {
      input: first.body,
      env: { ...process.env, WEBHOOK_SECRET: SECRET },
      encoding: "utf8",
    });
    expect(expected).toBe(first.headers["x-gischat-signature"]);

    // Fails once: the room's alarm sends it again after the backoff (10 s), same delivery id.
    receiver.failNext(1, 503);
    await putText("second, after a failure");
    const [, failed, retried] = await receiver.waitFor(3, 30_000);
    expect(failed?.status).toBe(503);
    expect(retried?.status).toBe(200);
    expect(retried?.headers["x-gischat-delivery"]).toBe(failed?.headers["x-gischat-delivery"]);
    expect(retried?.headers["x-gischat-attempt"]).toBe("2");
    expect(retried?.signatureValid).toBe(true);
    expect((retried?.at ?? 0) - (failed?.at ?? 0)).toBeGreaterThan(9_000);
    expect(JSON.parse(retried?.body ?? "").text).toBe("second, after a failure");

    const listed = (await (
      await fetch(`${server.baseUrl}/room/${ROOM}/webhooks`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json()) as { webhooks: { stats: { delivered: number; pending: number } }[] };
    expect(listed.webhooks[0]?.stats).toMatchObject({ delivered: 2, pending: 0 });
  });
});
