// One Durable Object per room. It admits WebSockets and holds them hibernating
// (sockets.ts), guards against flooders (flood-guard.ts), validates every frame,
// owns the nicknames, stamps and stores messages (history.ts) and fans them out,
// takes a moderator's actions (moderation.ts), and answers the Worker's REST RPCs.
//
// The cut follows the sharding design in the README: sockets and the flood guard
// are what a shard would run for its own sockets; nicknames, history, fan-out and
// moderation are the coordinator's.
import { DurableObject } from "cloudflare:workers";
import { shrinkInTurn } from "../images/shrink";
import { clientNetwork, floodRefusal } from "../server/client-network";
import { configOf, type Limits, limitsForSpace, limitsOf } from "../server/config";
import { logEvent, logFailure } from "../server/log";
import { parseRoomObjectName } from "../server/room-names";
import { lonLatOf, toLonLatFor } from "../wire/crs";
import { type Envelope, envelope, shape } from "../wire/envelope";
import { FAMILIES, type Family, parseSocketPath } from "../wire/families";
import { isGischat1Frame, parseGischat1 } from "../wire/gischat1";
import {
  type ClientMessage,
  type ClientMessageOf,
  decodeFrame,
  isStorable,
  parseMessage,
  type Threading,
  type WireMessage,
} from "../wire/messages";
import { sentences } from "../wire/sentences";
import { RoomAlarm } from "./alarm";
import { Burst, type Staged } from "./burst";
import { Counts } from "./counts";
import { exportStream } from "./export";
import { FloodGuard } from "./flood-guard";
import { History, type Retention } from "./history";
import { Moderation } from "./moderation";
import { Outgoing } from "./outgoing";
import { costOf } from "./rate-limit";
import { migrate } from "./schema";
import { type LastPosition, Sockets } from "./sockets";
import { type AddWebhookResult, type HookSettings, RoomHooks, type WebhookList, type WebhookView } from "./webhooks";

/** A message as one family receives it, for the REST answers. */
export type ShapedMessage = ReturnType<typeof shape>;

export type PostResult = { ok: true; message: ShapedMessage } | { ok: false; status: 403 | 404 | 409; detail: string };

/** A page of the history, as the Worker answers it (…/messages). */
export type PageResult =
  | { ok: true; page: { messages: ShapedMessage[]; next_before: string | null } }
  | { ok: false; status: 404; detail: string };

/**
 * At most this much of the history in one page (UTF-8 bytes as stored): a page of
 * a hundred big layers is cut short (never empty) and its next_before goes on from there.
 */
const PAGE_MAX_BYTES = 8_000_000;

export interface UserPosition extends LastPosition {
  nickname: string;
}

export interface BanResult {
  nickname: string;
  /** ISO 8601, UTC. */
  banned_until: string;
  /** Sockets that held the nickname and were closed. */
  disconnected: number;
}

const GOING_AWAY = 1001;
const POLICY_VIOLATION = 1008;
/** Keys of the room's own settings, in its key-value storage. */
const SPACE_LIMITS = "space_limits";
const DISSOLVED = "dissolved_at";
const TRY_AGAIN_LATER = 1013;

type Published = Exclude<ClientMessage, { type: "newcomer" | "exiter" | "like" }>;

export class Room extends DurableObject<Env> {
  private readonly sockets: Sockets;
  /** nb_users, coalesced: the newcomer's at once, everyone else's at most every 250 ms. */
  private readonly counts: Counts;
  private readonly guard: FloodGuard;
  private readonly history: History;
  /** Storable messages waiting to be stored together, their sends held behind them. */
  private readonly burst: Burst;
  private readonly moderation: Moderation;
  /** A cache of the space's limits, read from storage once per wake-up. */
  private spaceOverrides: Record<string, number> | undefined;
  /** This room's limits, worked out once per wake-up (and again when the Directory re-limits the room): every frame reads them. */
  private limitsCache: Limits | undefined;
  private placeCache: { room: string; spaceId?: string } | undefined;
  /** What the webhooks and the Matrix ping need of the configuration, read once per wake-up: every message asks. */
  private hookSettings: HookSettings | undefined;
  /** One alarm for all that is due in the room: bans and old messages expiring, deliveries to webhooks. */
  private readonly alarms: RoomAlarm;
  /** Webhooks and the Matrix ping: what the room publishes, queued in its outbox. */
  private readonly hooks: RoomHooks;
  /** The frames of the history's recent messages (History.recent answers the same objects until it changes). */
  private readonly replayFrames = new WeakMap<Envelope, Outgoing>();
  /** Whether the room was dissolved: its storage's tombstone, read once per wake-up (every upgrade asks). */
  private dissolvedCache: boolean | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage);
    this.sockets = new Sockets(ctx);
    this.counts = new Counts(ctx.storage, this.sockets, (error) => logFailure("count_failed", error, { room: this.name }));
    this.guard = new FloodGuard(ctx.storage, this.sockets, () => this.limits);
    this.history = new History(ctx.storage);
    this.burst = new Burst(
      this.sockets,
      (staged) => this.store(staged),
      (error) => logFailure("burst_failed", error, { room: this.name }),
    );
    this.moderation = new Moderation(ctx.storage, this.name);
    this.hooks = new RoomHooks(
      ctx.storage,
      () => this.place,
      () => {
        if (this.hookSettings === undefined) {
          const { webhooks, matrixPing } = configOf(this.env);
          this.hookSettings = { outboxMax: webhooks.outboxMax, matrixPing };
        }
        return this.hookSettings;
      },
    );
    this.alarms = new RoomAlarm(ctx.storage, [
      this.moderation.expiringBans,
      { nextExpiry: () => this.history.nextExpiry(this.retention), removeExpired: () => this.history.removeExpired(this.retention) },
      this.hooks.expiring,
    ]);
    // Clients' keepalives are answered by the platform without waking the room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** The room's name and its space's id: the Worker and the Directory reach each room by idFromName. */
  private get place(): { room: string; spaceId?: string } {
    this.placeCache ??= parseRoomObjectName(this.ctx.id.name ?? "");
    return this.placeCache;
  }

  private get name(): string {
    return this.place.room;
  }

  /**
   * This room's limits: the instance's defaults with its ROOM_LIMITS overrides, or
   * for a space's room with the space's (the Directory hands them to the room).
   */
  private get limits(): Limits {
    if (this.limitsCache === undefined) {
      const config = configOf(this.env);
      if (this.place.spaceId === undefined) this.limitsCache = limitsOf(config, this.name);
      else {
        this.spaceOverrides ??= this.ctx.storage.kv.get<Record<string, number>>(SPACE_LIMITS) ?? {};
        this.limitsCache = limitsForSpace(config, this.spaceOverrides);
      }
    }
    return this.limitsCache;
  }

  /** What this room's history keeps: its age, number and byte caps. */
  private get retention(): Retention {
    const { retentionDays, retentionMaxMessages, retentionMaxBytes } = this.limits;
    return { days: retentionDays, maxMessages: retentionMaxMessages, maxBytes: retentionMaxBytes };
  }

  // -------------------------------------------------------------------------
  // Connections

  /** Accepts a WebSocket upgrade forwarded untouched by the Worker. */
  override async fetch(request: Request): Promise<Response> {
    // Its replay must hold every message the others will be shown, and nothing twice.
    this.burst.settle();
    // Removed while a Worker elsewhere still had it listed (its list is a cache of a few seconds).
    if (this.dissolved) return Response.json({ detail: "Not Found" }, { status: 404 });
    const target = parseSocketPath(new URL(request.url).pathname);
    if (!target || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ detail: sentences.notAnUpgradeToRoom }, { status: 426 });
    }
    const address = clientNetwork(request);
    const standing = this.guard.standing(address);
    if (standing.kind === "refused") return floodRefusal(FAMILIES[target.family].Noun, this.name, standing.until, Date.now());
    const { 0: client, 1: server } = new WebSocketPair();
    const { maxUsers } = this.limits;
    if (this.sockets.count() >= maxUsers) {
      // Accepted only to be closed with a reason the client can show.
      server.accept();
      server.close(TRY_AGAIN_LATER, sentences.roomFull(target.family, this.name, maxUsers));
      return new Response(null, { status: 101, webSocket: client });
    }
    this.sockets.accept(server, { family: target.family, nickname: null, bucket: this.guard.startingBucket(standing), address });
    this.counts.arrived(server);
    this.replayHistory(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, frame: string | ArrayBuffer): Promise<void> {
    // Frames a socket sent before the room closed it still arrive: they cost nothing more.
    if (this.sockets.stateOf(ws).departed) return;
    // Charged before parsing, so that garbage costs too; pictures and layers pay the rest after.
    if (!this.withinRate(ws, 1)) return;
    const limits = this.limits;
    const decoded = decodeFrame(frame, limits);
    if (!decoded.ok) return this.reject(ws, decoded.reason);
    const gischat1 = isGischat1Frame(decoded.data) && this.speaksGischat1(ws);
    const parsed = gischat1 ? parseGischat1(decoded.data as object, limits) : parseMessage(decoded.data, limits);
    if (!parsed.ok) return this.reject(ws, parsed.reason);
    const rest = costOf(parsed.message.type) - 1;
    if (rest > 0 && !this.withinRate(ws, rest)) return;
    try {
      if (gischat1 && parsed.message.type === "text") this.publishGischat1(ws, parsed.message);
      else await this.handle(ws, parsed.message, parsed.threading);
    } catch (error) {
      logFailure("message_failed", error, { room: this.name, type: parsed.message.type });
      this.reject(ws, sentences.processingFailed);
    }
  }

  /**
   * A 1.x frame counts only on the rooms path. The first one marks its socket as a
   * 1.x client, which from then on receives 1.x frames, starting with the count it
   * could not read when it joined.
   */
  private speaksGischat1(ws: WebSocket): boolean {
    const state = this.sockets.stateOf(ws);
    if (state.family !== "rooms") return false;
    if (!state.gischat1) {
      this.sockets.update(ws, { gischat1: true });
      this.counts.tell(ws);
    }
    return true;
  }

  /** Charges a message to its socket's budget; refuses it, or closes a flooding socket. */
  private withinRate(ws: WebSocket, cost: number): boolean {
    const verdict = this.guard.charge(ws, cost);
    if (verdict.kind === "allowed") return true;
    if (verdict.kind === "refused") this.reject(ws, sentences.tooFast(verdict.retryAfterSeconds));
    else this.closeFlooder(ws);
    return false;
  }

  private closeFlooder(ws: WebSocket): void {
    const { nickname, address } = this.sockets.stateOf(ws);
    logEvent("flooder_closed", { room: this.name, nickname });
    this.guard.remember(address);
    this.closeByRoom(ws, POLICY_VIOLATION, sentences.closedForFlooding);
  }

  /** Closes a socket on the room's initiative, and announces its departure. */
  private closeByRoom(ws: WebSocket, code: number, reason: string): void {
    this.sockets.close(ws, code, reason);
    this.depart(ws);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string, _wasClean: boolean): Promise<void> {
    this.sockets.answerClose(ws, code, reason);
    this.depart(ws);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    logFailure("socket_error", error, { room: this.name });
    this.depart(ws);
  }

  /** Announces a closed socket's departure exactly once. */
  private depart(ws: WebSocket): void {
    const state = this.sockets.leave(ws);
    if (state === undefined) return;
    if (state.nickname !== null) this.announce({ type: "exiter", exiter: state.nickname });
    this.counts.departed();
  }

  // -------------------------------------------------------------------------
  // Messages

  private async handle(ws: WebSocket, message: ClientMessage, threading: Threading): Promise<void> {
    switch (message.type) {
      case "newcomer":
        return this.register(ws, message);
      case "exiter":
        return this.unregister(ws, message);
      case "like":
        return this.deliverLike(ws, message, threading);
      case "image":
        return this.publishImage(ws, message, threading);
      default:
        return this.publish(ws, message, threading);
    }
  }

  private register(ws: WebSocket, { newcomer }: ClientMessageOf<"newcomer">): void {
    const banned = this.moderation.banReason(newcomer);
    if (banned !== undefined) return this.reject(ws, banned);
    if (this.sockets.holderOf(newcomer) !== undefined) {
      return this.reject(ws, sentences.alreadyRegistered(this.sockets.stateOf(ws).family, this.name, newcomer));
    }
    this.takeNickname(ws, newcomer);
  }

  /** Registers the socket under `nickname`, giving up the one it held: announced to everyone. */
  private takeNickname(ws: WebSocket, nickname: string): void {
    const previous = this.sockets.stateOf(ws).nickname;
    // A position belongs to a nickname: a new one starts with none.
    this.sockets.update(ws, { nickname, position: undefined });
    if (previous !== null) this.announce({ type: "exiter", exiter: previous });
    this.announce({ type: "newcomer", newcomer: nickname });
  }

  /**
   * A 1.x client never registers: the nickname it posts under becomes its own, so that
   * the others see it arrive and leave like anyone else, and nobody else can post as it.
   */
  private publishGischat1(ws: WebSocket, text: ClientMessageOf<"text">): void {
    const refusal = this.authorRefusal(text.author, ws);
    if (refusal !== undefined) return this.reject(ws, refusal);
    if (this.sockets.stateOf(ws).nickname !== text.author) this.takeNickname(ws, text.author);
    this.broadcastAndStore(text, {}, this.refuseUnstored(ws, text));
  }

  private unregister(ws: WebSocket, { exiter }: ClientMessageOf<"exiter">): void {
    const held = this.sockets.stateOf(ws).nickname;
    if (held !== exiter) return this.reject(ws, sentences.notYourExit(held, exiter));
    this.sockets.update(ws, { nickname: null, position: undefined });
    this.announce({ type: "exiter", exiter });
  }

  private deliverLike(ws: WebSocket, like: ClientMessageOf<"like">, threading: Threading): void {
    const refusal = this.authorRefusal(like.liker_author, ws);
    if (refusal !== undefined) return this.reject(ws, refusal);
    // Nobody holds the liked nickname: the like is dropped silently, as the contract says.
    this.sockets.send(this.sockets.holding(like.liked_author), new Outgoing(envelope(like, { id: threading.clientId })));
  }

  private publish(ws: WebSocket, message: Published, threading: Threading): void {
    const refusal = this.authorRefusal(message.author, ws);
    if (refusal !== undefined) return this.reject(ws, refusal);
    const stamped = this.broadcastAndStore(message, threading, this.refuseUnstored(ws, message));
    if (message.type === "position") this.rememberPosition(ws, message, stamped);
  }

  /**
   * A registered user's latest position, in WGS 84, kept in its socket's attachment:
   * it goes with the socket (a user who leaves is forgotten) and ages out on read.
   * A position in a CRS the server cannot convert is shown to everyone but not kept.
   */
  private rememberPosition(ws: WebSocket, position: ClientMessageOf<"position">, stamped: Envelope): void {
    if (this.sockets.stateOf(ws).nickname !== position.author) return;
    const toLonLat = toLonLatFor(position.crs_wkt, position.crs_authid);
    const lonLat = toLonLat === undefined ? undefined : lonLatOf(toLonLat, position.x, position.y);
    if (lonLat === undefined) return;
    this.sockets.update(ws, { position: { lon: lonLat[0], lat: lonLat[1], at: Date.now(), id: stamped.id } });
  }

  /**
   * Resized in slices of a few milliseconds (src/images/pipeline.ts): the room
   * handles its other messages in between, and the image appears when it is ready.
   */
  private async publishImage(ws: WebSocket, image: ClientMessageOf<"image">, threading: Threading): Promise<void> {
    const refusal = this.authorRefusal(image.author, ws);
    if (refusal !== undefined) return this.reject(ws, refusal);
    const { maxImageSize, maxImageRawLength, maxImagePixels } = this.limits;
    const result = await shrinkInTurn(image.image_data, { maxImageSize, maxImageRawLength, maxImagePixels });
    if (!result.ok) {
      logEvent("image_refused", { room: this.name, author: image.author, detail: result.detail });
      return this.reject(ws, result.reason);
    }
    this.broadcastAndStore({ ...image, image_data: result.imageData }, threading, this.refuseUnstored(ws, image));
  }

  /**
   * Stamps the message and sends it to everyone. A storable one is stored first, with the rest
   * of its burst (burst.ts): what someone saw is what a newcomer replays. `failed` hears if it
   * could not be stored (nobody saw it then).
   */
  private broadcastAndStore(message: WireMessage, threading: Threading, failed: (error: unknown) => void): Envelope {
    const stamped = envelope(message, { id: this.idFor(threading.clientId), inReplyTo: threading.inReplyTo });
    const outgoing = new Outgoing(stamped);
    if (isStorable(message)) this.burst.add({ stamped, outgoing, failed });
    else {
      this.sockets.sendToAll(outgoing);
      this.heard(stamped);
    }
    return stamped;
  }

  /** One message of a burst into the history, and to the webhooks once stored. */
  private store({ stamped, outgoing }: Staged): void {
    const retention = this.retention;
    const earliestExpiry = this.history.expiryFrom(Date.now(), retention);
    if (this.history.append(stamped, retention, outgoing.stored())) {
      // The first message of an empty history is the first that can expire.
      this.alarms.expectBy(earliestExpiry).catch((error: unknown) => logFailure("alarm_failed", error, { room: this.name }));
    }
    this.heard(stamped);
  }

  /** What a socket is told when its message could not be stored. */
  private refuseUnstored(ws: WebSocket, message: WireMessage): (error: unknown) => void {
    return (error) => {
      logFailure("message_failed", error, { room: this.name, type: message.type });
      this.reject(ws, sentences.processingFailed);
    };
  }

  /** A newcomer or an exiter: to every socket, and to the webhooks that asked for arrivals and departures. */
  private announce(message: ClientMessageOf<"newcomer"> | ClientMessageOf<"exiter">): void {
    const stamped = envelope(message);
    this.sockets.sendToAll(new Outgoing(stamped));
    this.heard(stamped);
  }

  /**
   * Queued for the webhooks and the Matrix ping that hear it; sent by the alarm, never
   * here. The message has reached the room already: a failure to queue it is logged, not
   * the sender's refusal.
   */
  private heard(stamped: Envelope): void {
    try {
      if (this.hooks.heard(stamped)) {
        this.alarms.expect().catch((error: unknown) => logFailure("alarm_failed", error, { room: this.name }));
      }
    } catch (error) {
      logFailure("outbox_failed", error, { room: this.name, type: stamped.message.type });
    }
  }

  /**
   * The client's own id when no stored message has it (QChat stamps its messages, as
   * the original server kept): replies can then name a message as its sender knows it.
   */
  private idFor(clientId: string | undefined): string | undefined {
    return clientId !== undefined && !this.burst.has(clientId) && !this.history.has(clientId) ? clientId : undefined;
  }

  private reject(ws: WebSocket, reason: string): void {
    this.sockets.send([ws], new Outgoing(envelope({ type: "uncompliant", reason })));
  }

  /** Why `ws` may not post as `nickname`: banned, or registered by another socket. */
  private authorRefusal(nickname: string, ws: WebSocket): string | undefined {
    const banned = this.moderation.banReason(nickname);
    if (banned !== undefined) return banned;
    const holder = this.sockets.holderOf(nickname);
    return holder !== undefined && holder !== ws ? sentences.heldByAnother(nickname) : undefined;
  }

  private replayHistory(ws: WebSocket): void {
    for (const stored of this.history.recent(this.limits.maxStoredMessages, this.retention)) {
      this.sockets.send([ws], this.replayed(stored));
    }
  }

  /** A recent message on its way to a newcomer: serialized once per dialect for all the newcomers until the history changes. */
  private replayed(stored: Envelope): Outgoing {
    let outgoing = this.replayFrames.get(stored);
    if (outgoing === undefined) {
      outgoing = new Outgoing(stored);
      this.replayFrames.set(stored, outgoing);
    }
    return outgoing;
  }

  // -------------------------------------------------------------------------
  // RPC for the Worker's REST routes

  connectedCount(): number {
    return this.sockets.live().length;
  }

  /** The registered users' last positions, those younger than the room's position_max_age_seconds. */
  currentPositions(): UserPosition[] {
    const oldest = Date.now() - this.limits.positionMaxAgeSeconds * 1000;
    return this.sockets.live().flatMap((ws) => {
      const { nickname, position } = this.sockets.stateOf(ws);
      return nickname === null || position === undefined || position.at < oldest ? [] : [{ nickname, ...position }];
    });
  }

  registeredUsers(): string[] {
    return this.sockets.registeredNicknames().sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()) || a.localeCompare(b));
  }

  recentMessages(family: Family): ShapedMessage[] {
    this.burst.settle();
    return this.history.recent(this.limits.maxStoredMessages, this.retention).map((stored) => shape(stored, family));
  }

  /** `GET …/messages`: `limit` messages older than `before` (or the newest), oldest first within the page. */
  messagesPage(family: Family, before: string | undefined, limit: number): PageResult {
    this.burst.settle();
    const page = this.history.page(before, limit, PAGE_MAX_BYTES, this.retention);
    if (page === undefined) return { ok: false, status: 404, detail: sentences.unknownCursor(family, this.name, before ?? "") };
    return {
      ok: true,
      page: { messages: page.messages.map((stored) => shape(stored, family)), next_before: page.nextBefore ?? null },
    };
  }

  /** `GET …/export.geojson`: the geodata of the history, streamed as it is read. */
  exportGeojson(): ReadableStream<Uint8Array> {
    this.burst.settle();
    return exportStream(this.history, () => this.retention, this.name);
  }

  /** Deletes one stored message and tells every socket (gischat 1.x ones excepted): whether it existed. */
  deleteMessage(id: string): boolean {
    this.burst.settle();
    if (!this.history.delete(id)) return false;
    this.sockets.broadcast({ type: "message_deleted", message_id: id });
    this.moderation.log("delete_message", { message_id: id });
    return true;
  }

  /** `PUT …/text`: the message was validated by the Worker; the author rule needs the room. */
  postText(family: Family, message: ClientMessageOf<"text">, threading: Threading = {}): PostResult {
    this.burst.settle();
    if (this.dissolved) return { ok: false, status: 404, detail: "Not Found" };
    const banned = this.moderation.banReason(message.author);
    if (banned !== undefined) return { ok: false, status: 403, detail: banned };
    if (this.sockets.holderOf(message.author) !== undefined) {
      return { ok: false, status: 409, detail: sentences.heldByConnectedUser(message.author) };
    }
    let failure: { error: unknown } | undefined;
    const stamped = this.broadcastAndStore(message, threading, (error) => {
      failure = { error };
    });
    this.burst.settle();
    if (failure !== undefined) throw failure.error;
    return { ok: true, message: shape(stamped, family) };
  }

  async clearHistory(): Promise<void> {
    this.burst.settle();
    this.history.clear();
    this.moderation.log("clear_history");
    await this.alarms.schedule();
  }

  /** Closes the nickname's sockets, announces its exit, and refuses it here until the ban ends. */
  async ban(nickname: string, seconds: number): Promise<BanResult> {
    this.burst.settle();
    const until = this.moderation.ban(nickname, seconds);
    await this.alarms.schedule();
    const holders = this.sockets.holding(nickname);
    const minutes = Math.ceil((until - Date.now()) / 60_000);
    for (const ws of holders) this.closeByRoom(ws, POLICY_VIOLATION, sentences.closedByBan(minutes));
    const bannedUntil = new Date(until).toISOString();
    this.moderation.log("ban", { target: nickname, until: bannedUntil, disconnected: holders.length });
    return { nickname, banned_until: bannedUntil, disconnected: holders.length };
  }

  override async alarm(): Promise<void> {
    this.burst.settle();
    await this.alarms.ring();
  }

  // -------------------------------------------------------------------------
  // RPC for the moderator's webhook routes (worker/webhook-routes.ts)

  addWebhook(input: { url: string; secret: string; presence: boolean }): AddWebhookResult {
    return this.hooks.add(input);
  }

  webhooks(): WebhookList {
    return this.hooks.list();
  }

  removeWebhook(id: string): boolean {
    return this.hooks.remove(id);
  }

  async enableWebhook(id: string): Promise<WebhookView | undefined> {
    const webhook = this.hooks.enable(id);
    if (webhook !== undefined) await this.alarms.expect();
    return webhook;
  }

  // -------------------------------------------------------------------------
  // RPC for the Directory: a room made, re-limited, removed or re-keyed at run time

  /** The space's limits, kept in the room's storage so that every frame reads them there. */
  configure(overrides: Record<string, number>): void {
    // The burst is stored under the retention it came in.
    this.burst.settle();
    this.ctx.storage.kv.put(SPACE_LIMITS, overrides);
    this.spaceOverrides = overrides;
    this.limitsCache = undefined;
  }

  /** Closes every socket with a reason, deletes everything the room stored, and stays closed. */
  async dissolve(reason: string): Promise<void> {
    this.closeEveryone(reason);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // Empty tables, so that a late REST call finds nothing rather than fails; and the
    // tombstone: a Worker whose list is a few seconds old must not bring the room back.
    migrate(this.ctx.storage);
    this.ctx.storage.kv.put(DISSOLVED, Date.now());
    this.dissolvedCache = true;
    // What the room keeps in memory of its storage is gone with it.
    this.history.forget();
    this.guard.forget();
    this.spaceOverrides = undefined;
    this.limitsCache = undefined;
  }

  /** A room made again under a name that was removed. */
  revive(): void {
    this.ctx.storage.kv.delete(DISSOLVED);
    this.dissolvedCache = false;
  }

  closeEveryone(reason: string): void {
    this.burst.settle();
    for (const ws of this.sockets.live()) this.closeByRoom(ws, GOING_AWAY, reason);
  }

  private get dissolved(): boolean {
    this.dissolvedCache ??= this.ctx.storage.kv.get(DISSOLVED) !== undefined;
    return this.dissolvedCache;
  }
}
