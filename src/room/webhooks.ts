// Bots that hear the room: its webhooks and the instance's Matrix ping. The room
// tells this what it published (heard); this decides who hears it, queues it in the
// outbox (outbox.ts), and says how a delivery is sent when the alarm rings.
//
// A webhook receives every storable message (and, if it asked, every newcomer and
// exiter) as the channels family sees it, plus `room` and `space`, POSTed as JSON
// and signed with HMAC-SHA256 of the raw body under its secret. The Matrix ping
// (MATRIX_PING_*) sends a public room's texts that start with the prefix to one
// Matrix room, as the original server does, through the same outbox.
import packageJson from "../../package.json";
import type { MatrixPing } from "../server/config";
import { signatureHeader } from "../server/hmac";
import { type Envelope, shape } from "../wire/envelope";
import { isStorable } from "../wire/messages";
import type { Expiring } from "./alarm";
import { type Delivery, type EndpointRow, Outbox, type OutboxPolicy, type Outcome } from "./outbox";

/** Webhooks one room may have. */
export const MAX_WEBHOOKS_PER_ROOM = 10;
/** An attempt that has not answered by then has failed. */
export const DELIVERY_TIMEOUT_MS = 10_000;
const MATRIX_ENDPOINT = "matrix";
const USER_AGENT = `gischat-edge/${packageJson.version} (webhook)`;

export const WEBHOOK_HEADERS = {
  signature: "X-Gischat-Signature",
  delivery: "X-Gischat-Delivery",
  attempt: "X-Gischat-Attempt",
} as const;

/** How a webhook is shown to its moderator: everything but its secret. */
export interface WebhookView {
  id: string;
  url: string;
  presence: boolean;
  created_at: string;
  enabled: boolean;
  disabled_at: string | null;
  disabled_reason: string | null;
  stats: DeliveryStats;
}

export interface DeliveryStats {
  /** Deliveries waiting (at most WEBHOOK_OUTBOX_MAX). */
  pending: number;
  delivered: number;
  /** Deliveries dropped, oldest first, because the outbox was full. */
  dropped: number;
  consecutive_failures: number;
  last_attempt_at: string | null;
  /** The last attempt's HTTP status, or what went wrong ("timeout", "network error"). */
  last_status: string | null;
  last_success_at: string | null;
  /** When the next attempt is due, while deliveries wait for a retry. */
  next_attempt_at: string | null;
}

export interface WebhookList {
  webhooks: WebhookView[];
  /** The Matrix ping's deliveries from this room, once it has pinged. */
  matrix_ping: DeliveryStats | null;
}

export type AddWebhookResult = { ok: true; created: boolean; webhook: WebhookView } | { ok: false; detail: string };

export interface HookSettings extends OutboxPolicy {
  matrixPing: MatrixPing | undefined;
}

/** Where the room is, as a payload names it: its name and its space's id (never the key). */
export interface Place {
  room: string;
  spaceId?: string;
}

const iso = (time: number | null): string | null => (time === null ? null : new Date(time).toISOString());

function statsOf(row: EndpointRow): DeliveryStats {
  return {
    pending: row.pending,
    delivered: row.delivered,
    dropped: row.dropped,
    consecutive_failures: row.failures,
    last_attempt_at: iso(row.last_attempt_at),
    last_status: row.last_status,
    last_success_at: iso(row.last_success_at),
    next_attempt_at: row.pending > 0 && row.disabled_at === null && row.failures > 0 ? iso(row.next_attempt_at) : null,
  };
}

function viewOf(row: EndpointRow): WebhookView {
  return {
    id: row.id,
    url: row.url,
    presence: row.presence === 1,
    created_at: new Date(row.created_at).toISOString(),
    enabled: row.disabled_at === null,
    disabled_at: iso(row.disabled_at),
    disabled_reason: row.disabled_reason,
    stats: statsOf(row),
  };
}

/** What a webhook receives: the channels family's shape of the message, plus where it was said. */
export function webhookBody(stamped: Envelope, place: Place): string {
  return JSON.stringify({ ...shape(stamped, "channels"), room: place.room, space: place.spaceId ?? null });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * The Matrix event's content, as the original server words it (dispatchers.py,
 * forward_message_to_matrix_channel): Markdown in `body`, and its HTML in
 * `formatted_body`, with the room, the author and the text escaped (the original
 * passes the text through Markdown as is, HTML included).
 */
export function matrixContent(room: string, author: string, text: string) {
  return {
    msgtype: "m.text",
    body: `💬 QChat message in channel **${room}** by _${author}_:\n${text}`,
    format: "org.matrix.custom.html",
    formatted_body: `<p>💬 QChat message in channel <strong>${escapeHtml(room)}</strong> by <em>${escapeHtml(author)}</em>:<br>${escapeHtml(text).replace(/\n/g, "<br>")}</p>`,
  };
}

/** The client-server API's send path; the txnId makes a retried PUT the same event. */
export function matrixSendUrl(ping: MatrixPing, txnId: string): string {
  return `${ping.homeserver}/_matrix/client/v3/rooms/${encodeURIComponent(ping.roomId)}/send/m.room.message/${encodeURIComponent(txnId)}`;
}

/**
 * One attempt's request, awaited with a timeout; any answer but 2xx, a redirect
 * included, is a failure. The timer is cleared as soon as the answer is in (not
 * AbortSignal.timeout, whose timer would keep the room awake for its full length).
 */
async function attempt(request: Request): Promise<Outcome> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), DELIVERY_TIMEOUT_MS);
  try {
    const response = await fetch(request, { signal: abort.signal, redirect: "manual" });
    await response.body?.cancel();
    return { ok: response.status >= 200 && response.status < 300, status: String(response.status) };
  } catch {
    return { ok: false, status: abort.signal.aborted ? "timeout" : "network error" };
  } finally {
    clearTimeout(timer);
  }
}

export class RoomHooks {
  private readonly outbox: Outbox;

  constructor(
    storage: DurableObjectStorage,
    private readonly place: () => Place,
    private readonly settings: () => HookSettings,
  ) {
    this.outbox = new Outbox(storage, () => place().room);
  }

  /** The outbox, for the room's alarm. */
  get expiring(): Expiring {
    return this.outbox.expiring(() => this.send);
  }

  /**
   * A message the room published: queued for every endpoint that hears it. Whether
   * anything was queued (the room then brings its alarm forward if it must).
   */
  heard(stamped: Envelope): boolean {
    const enabled = this.outbox.enabled();
    const matrix = this.matrixPingFor(stamped);
    if (enabled.length === 0 && matrix === undefined) return false;
    const { type } = stamped.message;
    const presence = type === "newcomer" || type === "exiter";
    const storable = !presence && isStorable(stamped.message);
    const settings = this.settings();
    let queued = false;
    const hearing = enabled.filter((row) => row.kind === "webhook" && (storable || (presence && row.presence === 1))).map((row) => row.id);
    if (hearing.length > 0) {
      this.outbox.enqueue(webhookBody(stamped, this.place()), hearing, settings);
      queued = true;
    }
    if (matrix !== undefined) {
      if (this.outbox.endpoint(MATRIX_ENDPOINT) === undefined) {
        this.outbox.putEndpoint({ id: MATRIX_ENDPOINT, kind: "matrix", url: matrix.ping.homeserver, secret: "", presence: false });
      }
      this.outbox.enqueue(JSON.stringify(matrix.content), [MATRIX_ENDPOINT], settings);
      queued = true;
    }
    return queued;
  }

  /** The Matrix ping of this message: a text starting with the prefix, in a public room (a space's are private). */
  private matrixPingFor(stamped: Envelope) {
    const ping = this.settings().matrixPing;
    const { message } = stamped;
    if (ping === undefined || message.type !== "text" || !message.text.startsWith(ping.prefix)) return undefined;
    const place = this.place();
    if (place.spaceId !== undefined) return undefined;
    return { ping, content: matrixContent(place.room, message.author, message.text) };
  }

  /** How a delivery goes out, by the endpoint's kind. */
  private readonly send = async (endpoint: EndpointRow, delivery: Delivery): Promise<Outcome> => {
    if (endpoint.kind === "matrix") {
      const ping = this.settings().matrixPing;
      // Turned off since it was queued: nothing is owed to a Matrix room that is no longer configured.
      if (ping === undefined) {
        this.outbox.removeEndpoint(MATRIX_ENDPOINT);
        return { ok: false, status: "Matrix ping turned off" };
      }
      return attempt(
        new Request(matrixSendUrl(ping, delivery.id), {
          method: "PUT",
          headers: { Authorization: `Bearer ${ping.token}`, "Content-Type": "application/json", "User-Agent": USER_AGENT },
          body: delivery.body,
        }),
      );
    }
    return attempt(
      new Request(endpoint.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "User-Agent": USER_AGENT,
          [WEBHOOK_HEADERS.signature]: await signatureHeader(endpoint.secret, delivery.body),
          [WEBHOOK_HEADERS.delivery]: delivery.id,
          [WEBHOOK_HEADERS.attempt]: String(delivery.attempt),
        },
        body: delivery.body,
      }),
    );
  };

  // -------------------------------------------------------------------------
  // The moderator's RPC

  /**
   * Registers a webhook; registering a URL again replaces its secret and options and
   * enables it again, keeping what it is owed.
   */
  add(input: { url: string; secret: string; presence: boolean }): AddWebhookResult {
    const existing = this.outbox.endpoints("webhook").find((row) => row.url === input.url);
    if (existing === undefined && this.outbox.endpoints("webhook").length >= MAX_WEBHOOKS_PER_ROOM) {
      return { ok: false, detail: `This room has ${MAX_WEBHOOKS_PER_ROOM} webhooks already: remove one first.` };
    }
    const id = existing?.id ?? crypto.randomUUID();
    this.outbox.putEndpoint({ id, kind: "webhook", ...input });
    const row = this.outbox.endpoint(id);
    if (row === undefined) throw new Error("webhook not stored");
    return { ok: true, created: existing === undefined, webhook: viewOf(row) };
  }

  list(): WebhookList {
    const matrix = this.outbox.endpoint(MATRIX_ENDPOINT);
    return { webhooks: this.outbox.endpoints("webhook").map(viewOf), matrix_ping: matrix === undefined ? null : statsOf(matrix) };
  }

  remove(id: string): boolean {
    return this.webhook(id) !== undefined && this.outbox.removeEndpoint(id);
  }

  /** Enabled again and due at once: the webhook, or undefined for an unknown id. */
  enable(id: string): WebhookView | undefined {
    if (this.webhook(id) === undefined) return undefined;
    this.outbox.enable(id);
    const row = this.outbox.endpoint(id);
    return row === undefined ? undefined : viewOf(row);
  }

  private webhook(id: string): EndpointRow | undefined {
    const row = this.outbox.endpoint(id);
    return row?.kind === "webhook" ? row : undefined;
  }
}
