// The browser client: pick a room, a nickname and an avatar (or come through a
// deep link), then chat, with everything located drawn on the map.
import { AVATARS, authorColor } from "./avatars";
import { type ConnectionState, RoomConnection, socketUrl } from "./connection";
import { legacyGeojsonCrs } from "./crs";
import { byId, el } from "./dom";
import { pagePath, parsePage, roomPath, ShownHistory, spacePrefix } from "./history";
import { ChatMap } from "./map";
import { type MessageActions, refreshQuotesOf, renderAuthored, renderEvent } from "./messages";
import { NearPanel } from "./near";
import { parsePositions } from "./people";
import {
  codePoints,
  type GeojsonMessage,
  isNicknameTaken,
  type Located,
  nicknameProblem,
  type OutgoingMessage,
  parseReceived,
  type Received,
  type ReceivedOf,
  type Rules,
  type ThreadedType,
  WGS84,
} from "./protocol";
import { type Choice, deepLink, rememberChoice, rememberedChoice } from "./settings";
import { isThreadedType, type Quote, quoteOf, withReply } from "./threads";

const ui = {
  spaceBadge: byId("space-badge", HTMLSpanElement),
  joinHintLink: byId("join-hint-link", HTMLElement),
  roomTitle: byId("room-title", HTMLSpanElement),
  connection: byId("connection", HTMLSpanElement),
  nbUsers: byId("nb-users", HTMLSpanElement),
  leave: byId("leave", HTMLButtonElement),
  join: byId("join", HTMLFormElement),
  joinRoom: byId("join-room", HTMLSelectElement),
  joinNickname: byId("join-nickname", HTMLInputElement),
  joinAvatar: byId("join-avatar", HTMLSelectElement),
  joinError: byId("join-error", HTMLParagraphElement),
  chat: byId("chat", HTMLElement),
  viewTabs: [...document.querySelectorAll<HTMLButtonElement>(".view-tab")],
  users: byId("users", HTMLUListElement),
  likes: byId("likes", HTMLUListElement),
  loadEarlier: byId("load-earlier", HTMLButtonElement),
  historyStatus: byId("history-status", HTMLSpanElement),
  messages: byId("messages", HTMLOListElement),
  replyBar: byId("reply-bar", HTMLDivElement),
  replyAuthor: byId("reply-author", HTMLElement),
  replySnippet: byId("reply-snippet", HTMLSpanElement),
  replyCancel: byId("reply-cancel", HTMLButtonElement),
  composer: byId("composer", HTMLFormElement),
  composerText: byId("composer-text", HTMLInputElement),
  imageFile: byId("image-file", HTMLInputElement),
  geojsonFile: byId("geojson-file", HTMLInputElement),
  shareView: byId("share-view", HTMLButtonElement),
  composerError: byId("composer-error", HTMLParagraphElement),
  map: byId("map", HTMLDivElement),
  exportLink: exportLink(byId("map", HTMLDivElement)),
  lightbox: byId("lightbox", HTMLDialogElement),
  lightboxImage: byId("lightbox-image", HTMLImageElement),
  lightboxClose: byId("lightbox-close", HTMLButtonElement),
};

/** A registration refused on a reconnection is retried: the server may still hold the dropped socket for a moment. */
const REGISTRATION_RETRY_MS = 3_000;
const REGISTRATION_RETRIES = 10;
/** How long a message stays highlighted after a click on a quote of it. */
const REPLY_HIGHLIGHT_MS = 2_000;
/** How many shown messages "load earlier" tries as its cursor when the server knows none of them (all expired). */
const CURSOR_TRIES = 5;

/**
 * The page's realm: "/s/{key}" on a space link (https://host/s/{key}/), "" among
 * the public rooms. Every path the page asks for starts with it.
 */
const PREFIX = spacePrefix(window.location.pathname);

/** The phone layout (client/app.css): one view at a time, Chat, Map or People. */
const PHONE = window.matchMedia("(max-width: 640px)");

type View = "chat" | "map" | "people";

// ---------------------------------------------------------------------------
// One stay in one room.

class ChatSession {
  private readonly connection: RoomConnection;
  /**
   * Every message received, by id: a reconnection's replay is shown once, and a
   * reply finds the message it answers here.
   */
  private readonly received = new Map<string, Received>();
  /** The history's messages the conversation shows, oldest first: what "load earlier" continues from. */
  private readonly history = new ShownHistory();
  private loadingEarlier = false;
  private left = false;
  /** The message the composer answers, while in reply mode. */
  private replyingTo: ReceivedOf<ThreadedType> | undefined;
  private readonly users = new Set<string>();
  /** Arrivals and departures seen while GET …/users is on its way, replayed over its answer. */
  private pendingUserEvents: ReceivedOf<"newcomer" | "exiter">[] | undefined;
  /** Departures seen while GET …/positions is on its way: not brought back by its answer. */
  private departedWhileLoadingPositions: Set<string> | undefined;
  private registered = false;
  private everRegistered = false;
  private registrationRetries = 0;
  private countdown: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly choice: Choice,
    private readonly map: ChatMap,
    private readonly onRefused: (reason: string) => void,
    private readonly showView: (view: View) => void,
  ) {
    this.connection = new RoomConnection(socketUrl(choice.room, window.location), {
      onState: (state) => this.showState(state),
      onOpen: () => this.onOpen(),
      onFrame: (frame) => {
        const message = parseReceived(frame);
        if (message) this.receive(message);
      },
    });
  }

  start(): void {
    this.connection.start();
  }

  /** Leaves like QField does: announce the exit, then close. */
  leave(): void {
    if (this.registered) this.connection.send({ type: "exiter", exiter: this.choice.nickname } satisfies OutgoingMessage);
    this.left = true;
    this.connection.stop();
    clearInterval(this.countdown);
    this.cancelReply();
  }

  /**
   * Sends a message; in reply mode a text, image, layer, extent or position
   * answers the message replied to, and ends reply mode once sent.
   */
  send(message: OutgoingMessage): boolean {
    const outgoing = withReply(message, this.replyingTo?.id);
    if (this.connection.send(outgoing)) {
      if (isThreadedType(outgoing.type)) this.cancelReply();
      return true;
    }
    showComposerError("Not connected: nothing was sent. The page reconnects by itself; try again in a moment.");
    return false;
  }

  /** Reply mode: the bar above the composer says to whom, until it is sent or cancelled. */
  replyTo(message: ReceivedOf<ThreadedType>): void {
    const quote = quoteOf(message);
    if (!quote) return;
    this.replyingTo = message;
    showReplyBar(quote);
    ui.composerText.focus();
  }

  get replying(): boolean {
    return this.replyingTo !== undefined;
  }

  cancelReply(): void {
    this.replyingTo = undefined;
    showReplyBar(undefined);
  }

  private onOpen(): void {
    this.registered = false;
    this.connection.send({ type: "newcomer", newcomer: this.choice.nickname } satisfies OutgoingMessage);
    void this.loadUsers();
    void this.loadPositions();
  }

  /**
   * The people layer, from the room: its users' last positions (GET …/positions) and
   * how long it keeps them (GET …/rules). Then kept live by the socket.
   */
  private async loadPositions(): Promise<void> {
    this.departedWhileLoadingPositions = new Set();
    try {
      const [body, rules] = await Promise.all([
        getJson<unknown>(roomPath(PREFIX, this.choice.room, "positions")),
        getJson<Partial<Rules>>(roomPath(PREFIX, this.choice.room, "rules")).catch(() => undefined),
      ]);
      if (this.left) return;
      if (typeof rules?.position_max_age_seconds === "number") this.map.people.setMaxAge(rules.position_max_age_seconds);
      const departed = this.departedWhileLoadingPositions;
      const people = parsePositions(body, Date.now()).filter((person) => !departed.has(person.nickname));
      this.map.people.replaceAll(people);
    } catch {
      // The layer fills in from the positions shared from now on; the next connection tries again.
    } finally {
      this.departedWhileLoadingPositions = undefined;
    }
  }

  /**
   * A live position: the room keeps it as its author's last if they are registered
   * here (the replay before this page registers is not live: GET …/positions has
   * what is current of it).
   */
  private trackPosition(message: ReceivedOf<"position">): void {
    if (!this.registered || !this.users.has(message.author)) return;
    const at = this.map.positionOf(message.id);
    if (!at) {
      // Not drawn here (a CRS this map cannot convert): the server may know where it is.
      void this.loadPositions();
      return;
    }
    this.map.people.update({ nickname: message.author, lat: at[0], lon: at[1], at: Date.now(), messageId: message.id });
  }

  private async loadUsers(): Promise<void> {
    this.pendingUserEvents = [];
    try {
      const names = await getJson<string[]>(roomPath(PREFIX, this.choice.room, "users"));
      this.users.clear();
      for (const name of names) this.users.add(name);
      for (const event of this.pendingUserEvents) this.applyUserEvent(event);
    } catch {
      // The list fills in from arrivals; the next connection tries again.
    } finally {
      this.pendingUserEvents = undefined;
      this.renderUsers();
    }
  }

  private receive(message: Received): void {
    // A reconnection replays the room's recent messages: show each message once.
    if (this.received.has(message.id)) return;
    this.received.set(message.id, message);
    switch (message.type) {
      case "nb_users":
        ui.nbUsers.textContent = `${message.nb_users} connected`;
        return;
      case "uncompliant":
        return this.onUncompliant(message.reason);
      case "newcomer":
      case "exiter":
        return this.onUserEvent(message);
      case "like":
        return this.onLike(message);
      case "message_deleted":
        return this.onDeleted(message.message_id);
      default:
        return this.onAuthored(message);
    }
  }

  private onUncompliant(reason: string): void {
    const nameTaken = !this.registered && isNicknameTaken(reason, this.choice.nickname);
    if (nameTaken && !this.everRegistered) {
      this.leave();
      this.onRefused(`${reason}: choose another nickname.`);
      return;
    }
    if (nameTaken && this.registrationRetries < REGISTRATION_RETRIES) {
      this.registrationRetries++;
      setTimeout(() => this.connection.send({ type: "newcomer", newcomer: this.choice.nickname }), REGISTRATION_RETRY_MS);
    }
    appendToList(renderEvent(`Refused by the server: ${reason}`, "error"));
  }

  private onUserEvent(message: ReceivedOf<"newcomer" | "exiter">): void {
    const name = message.type === "newcomer" ? message.newcomer : message.exiter;
    if (message.type === "newcomer" && name === this.choice.nickname && !this.registered) {
      this.registered = true;
      this.everRegistered = true;
      this.registrationRetries = 0;
    }
    this.pendingUserEvents?.push(message);
    this.applyUserEvent(message);
    this.renderUsers();
    appendToList(renderEvent(`${name} ${message.type === "newcomer" ? "joined" : "left"}`, "info", message.timestamp));
  }

  private applyUserEvent(message: ReceivedOf<"newcomer" | "exiter">): void {
    if (message.type === "newcomer") {
      this.users.add(message.newcomer);
    } else {
      this.users.delete(message.exiter);
      // The room forgets the position of whoever leaves.
      this.map.people.remove(message.exiter);
      this.departedWhileLoadingPositions?.add(message.exiter);
    }
  }

  private onLike(message: ReceivedOf<"like">): void {
    const text = `${message.liker_author} liked your message “${message.message}”`;
    ui.likes.prepend(el("li", { text }));
    appendToList(renderEvent(`♥ ${text}`, "like", message.timestamp));
  }

  /** A moderator deleted a stored message: it goes from the conversation and the map, and replies to it say so. */
  private onDeleted(messageId: string): void {
    messageItem(messageId)?.remove();
    this.map.forget(messageId);
    this.received.delete(messageId);
    this.history.remove(messageId);
    if (this.replyingTo?.id === messageId) this.cancelReply();
    refreshQuotesOf(ui.messages, messageId, this.actions);
  }

  private onAuthored(message: Received): void {
    const item = this.render(message);
    if (!item) return;
    this.history.append(message.id);
    appendToList(item);
    if (message.type === "position") this.trackPosition(message);
    // A reply shown earlier (in an older page, say) may quote this one.
    refreshQuotesOf(ui.messages, message.id, this.actions);
  }

  /** The list item of an authored message, with its shape drawn on the map when it has one. */
  private render(message: Received): HTMLLIElement | undefined {
    const located = isLocated(message) ? this.map.show(message) : undefined;
    return renderAuthored(message, this.actions, located);
  }

  /**
   * "Load earlier messages": the page of the room's history just older than the
   * oldest message shown, above it, each message once; the reader stays where they
   * were, and the button goes once nothing is older.
   */
  async loadEarlier(): Promise<void> {
    if (this.loadingEarlier) return;
    this.loadingEarlier = true;
    ui.loadEarlier.disabled = true;
    ui.historyStatus.textContent = "Loading…";
    try {
      for (let tries = 0; tries < CURSOR_TRIES; tries++) {
        const before = this.history.cursor();
        const response = await fetch(pagePath(PREFIX, this.choice.room, before), { headers: { Accept: "application/json" } });
        if (this.left) return;
        if (response.status === 404 && before !== undefined) {
          // Not a message the room keeps (a cheat code is shown but never stored, or it expired): try the next one.
          this.history.refuseCursor(before);
          continue;
        }
        if (!response.ok) throw new Error(`the server answered ${response.status}`);
        const page = parsePage<Received>(await response.json());
        if (!page) throw new Error("the server's answer is not a page of messages");
        if (this.left) return;
        this.showEarlier(page.messages);
        ui.historyStatus.textContent = "";
        ui.loadEarlier.hidden = page.next_before === null;
        return;
      }
      // None of the oldest messages shown is kept any more: nothing older is either.
      ui.historyStatus.textContent = "";
      ui.loadEarlier.hidden = true;
    } catch (error) {
      if (!this.left)
        ui.historyStatus.textContent = `Could not load earlier messages: ${error instanceof Error ? error.message : String(error)}.`;
    } finally {
      this.loadingEarlier = false;
      ui.loadEarlier.disabled = false;
    }
  }

  /** Puts a page (oldest first) above the conversation, without any message already shown. */
  private showEarlier(page: Received[]): void {
    const added = this.history.prepend(page, (id) => this.received.has(id));
    for (const message of added) this.received.set(message.id, message);
    const items = added.flatMap((message) => this.render(message) ?? []);
    const list = ui.messages;
    const fromBottom = list.scrollHeight - list.scrollTop;
    list.prepend(...items);
    list.scrollTop = list.scrollHeight - fromBottom;
    for (const message of added) refreshQuotesOf(list, message.id, this.actions);
  }

  private readonly actions: MessageActions = {
    me: () => this.choice.nickname,
    locate: (messageId) => {
      if (!this.map.has(messageId)) return;
      if (PHONE.matches) this.showView("map");
      if (this.map.flyTo(messageId)) ui.map.scrollIntoView({ block: "nearest", behavior: "smooth" });
    },
    like: (message) => this.send({ type: "like", liker_author: this.choice.nickname, liked_author: message.author, message: message.text }),
    enlarge: (source) => {
      ui.lightboxImage.src = source;
      ui.lightbox.showModal();
    },
    find: (messageId) => this.received.get(messageId),
    reply: (message) => this.replyTo(message),
    showMessage: (messageId) => {
      const item = messageItem(messageId);
      if (!item) return;
      scrollToItem(item);
      flash(item, "reply-highlight", REPLY_HIGHLIGHT_MS);
      // Keyboard users continue from the message they were taken to.
      if (!item.hasAttribute("tabindex")) item.tabIndex = -1;
      item.focus({ preventScroll: true });
    },
  };

  private renderUsers(): void {
    const sorted = [...this.users].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    ui.users.replaceChildren(...sorted.map((name) => el("li", { className: name === this.choice.nickname ? "me" : "", text: name })));
  }

  private showState(state: ConnectionState): void {
    clearInterval(this.countdown);
    ui.connection.dataset.state = state.kind;
    const open = state.kind === "open";
    for (const control of [ui.composerText, ui.imageFile, ui.geojsonFile, ui.shareView]) control.disabled = !open;
    byId("send", HTMLButtonElement).disabled = !open;
    switch (state.kind) {
      case "connecting":
        ui.connection.textContent = state.attempt === 0 ? "Connecting…" : `Reconnecting… (attempt ${state.attempt + 1})`;
        return;
      case "open":
        ui.connection.textContent = "Connected";
        return;
      case "waiting": {
        const tick = () => {
          const seconds = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
          ui.connection.textContent = `Disconnected (${state.lastClose}): retrying in ${seconds} s`;
        };
        tick();
        this.countdown = setInterval(tick, 1000);
        return;
      }
      case "refused":
        ui.connection.textContent = `Refused: ${state.reason}`;
        this.onRefused(state.reason);
        return;
      case "stopped":
        ui.connection.textContent = "Not connected";
        return;
    }
  }
}

function isLocated(message: Received): message is Located {
  return message.type === "geojson" || message.type === "bbox" || message.type === "position";
}

/** The list item of a message, if it is in the conversation. */
function messageItem(messageId: string): HTMLElement | null {
  return ui.messages.querySelector<HTMLElement>(`li[data-id="${CSS.escape(messageId)}"]`);
}

/** Scrolls the conversation (and nothing else: not the page) so that the item is in the middle. */
function scrollToItem(item: HTMLElement): void {
  const list = ui.messages.getBoundingClientRect();
  const box = item.getBoundingClientRect();
  const behavior = window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "instant" : "smooth";
  ui.messages.scrollBy({ top: box.top - list.top - (list.height - box.height) / 2, behavior });
}

const flashTimers = new WeakMap<Element, ReturnType<typeof setTimeout>>();

/** Adds a class for a moment (a second click starts the moment again). */
function flash(item: Element, className: string, ms: number): void {
  clearTimeout(flashTimers.get(item));
  item.classList.add(className);
  flashTimers.set(
    item,
    setTimeout(() => item.classList.remove(className), ms),
  );
}

/** Appends to the conversation, following it only if the reader was already at the bottom. */
function appendToList(item: HTMLLIElement): void {
  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(item);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

/** The bar above the composer: "Replying to <author>: <quote>", or nothing. */
function showReplyBar(quote: Quote | undefined): void {
  ui.replyBar.hidden = quote === undefined;
  ui.replyAuthor.textContent = quote?.author ?? "";
  ui.replyAuthor.style.color = quote ? authorColor(quote.author) : "";
  ui.replySnippet.textContent = quote?.text ?? "";
}

function showComposerError(text: string): void {
  ui.composerError.textContent = text;
}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return (await response.json()) as T;
}

// ---------------------------------------------------------------------------
// What the composer sends.

function textMessage(session: ChatSession, rules: Rules): OutgoingMessage | undefined {
  const text = ui.composerText.value.trim();
  if (text === "") return undefined;
  if (codePoints(text) > rules.max_message_length) {
    showComposerError(`A message can be at most ${rules.max_message_length} characters long.`);
    return undefined;
  }
  const { nickname, avatar } = session.choice;
  return { type: "text", author: nickname, avatar, text };
}

async function imageMessage(file: File, session: ChatSession, rules: Rules): Promise<OutgoingMessage | undefined> {
  if (file.type !== "image/png" && file.type !== "image/jpeg") {
    showComposerError("Only PNG and JPEG images can be shared.");
    return undefined;
  }
  const dataUrl = await readFile(file, "dataUrl");
  const imageData = dataUrl.slice(dataUrl.indexOf(",") + 1);
  if (imageData.length > rules.max_image_raw_length) {
    showComposerError(
      `This image is too large for the server (${formatMb(imageData.length)} encoded, the limit is ${formatMb(rules.max_image_raw_length)}).`,
    );
    return undefined;
  }
  const { nickname, avatar } = session.choice;
  return { type: "image", author: nickname, avatar, image_data: imageData };
}

async function geojsonMessage(file: File, session: ChatSession, rules: Rules): Promise<OutgoingMessage | undefined> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, "text"));
  } catch {
    showComposerError(`${file.name} is not valid JSON.`);
    return undefined;
  }
  const collection = asFeatureCollection(data);
  if (!collection) {
    showComposerError(`${file.name} is not GeoJSON: expected a FeatureCollection, a Feature or a geometry.`);
    return undefined;
  }
  if (collection.features.length > rules.max_geojson_features) {
    showComposerError(
      `${file.name} has ${collection.features.length} features; this server accepts at most ${rules.max_geojson_features}.`,
    );
    return undefined;
  }
  // GeoJSON is WGS 84 (RFC 7946), unless an older file names its CRS.
  const crsAuthid = legacyGeojsonCrs(data) ?? WGS84.crs_authid;
  const { nickname, avatar } = session.choice;
  const message: GeojsonMessage = {
    type: "geojson",
    author: nickname,
    avatar,
    layer_name: [...file.name.replace(/\.(geo)?json$/i, "")].slice(0, 255).join(""),
    crs_wkt: crsAuthid === WGS84.crs_authid ? WGS84.crs_wkt : "",
    crs_authid: crsAuthid,
    geojson: collection,
    style: null,
  };
  return message;
}

/** A FeatureCollection as is; a lone Feature or geometry wrapped in one. */
function asFeatureCollection(data: unknown): GeojsonMessage["geojson"] | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const type = (data as { type?: unknown }).type;
  if (type === "FeatureCollection") {
    const features = (data as { features?: unknown }).features;
    if (!Array.isArray(features) || !features.every((f) => typeof f === "object" && f !== null && f.type === "Feature")) return undefined;
    return { type: "FeatureCollection", features: features as GeojsonMessage["geojson"]["features"] };
  }
  if (type === "Feature") return { type: "FeatureCollection", features: [data as { type: "Feature" }] };
  const geometries = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"];
  if (typeof type === "string" && geometries.includes(type)) {
    return { type: "FeatureCollection", features: [{ type: "Feature", properties: {}, geometry: data }] };
  }
  return undefined;
}

function readFile(file: File, as: "text" | "dataUrl"): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener("load", () => resolve(String(reader.result)));
    reader.addEventListener("error", () => reject(reader.error ?? new Error(`Could not read ${file.name}`)));
    if (as === "text") reader.readAsText(file);
    else reader.readAsDataURL(file);
  });
}

function formatMb(characters: number): string {
  return `${(characters / 1_000_000).toFixed(1)} MB`;
}

// ---------------------------------------------------------------------------
// The page.

async function main(): Promise<void> {
  showRealm();
  let rooms: string[];
  let rules: Rules;
  try {
    [rooms, rules] = await Promise.all([getJson<string[]>(`${PREFIX}/channels`), getJson<Rules>(`${PREFIX}/rules`)]);
  } catch (error) {
    ui.joinError.textContent = `The server could not be reached: ${error instanceof Error ? error.message : String(error)}. Reload to try again.`;
    return;
  }
  fillJoinForm(rooms);

  let session: ChatSession | undefined;
  const sharePosition = (lat: number, lng: number) => {
    if (!session) return;
    const { nickname, avatar } = session.choice;
    session.send({ type: "position", author: nickname, avatar, ...WGS84, x: lng, y: lat });
  };
  const findMessage = (messageId: string) => {
    const item = messageItem(messageId);
    if (item) {
      scrollToItem(item);
      flash(item, "flash", 1500);
    }
  };
  const map = new ChatMap(ui.map, window.localStorage, {
    onItemClick: (messageId) => {
      findMessage(messageId);
      // No flight here: the user is looking at the item already, and a popup may be opening on it.
      map.highlight(messageId);
    },
    onSharePoint: sharePosition,
    onNearPoint: (lat, lng) => {
      if (PHONE.matches) showView("people");
      void near.around(lat, lng);
    },
    onPersonClick: (person) => findMessage(person.messageId),
  });
  const showView = (view: View) => {
    ui.chat.dataset.view = view;
    for (const tab of ui.viewTabs) tab.setAttribute("aria-pressed", String(tab.dataset.view === view));
    if (view === "map") map.refreshSize();
  };
  for (const tab of ui.viewTabs) tab.addEventListener("click", () => showView((tab.dataset.view as View | undefined) ?? "chat"));
  // Leaflet measures its container: again when the layout changes between phone and desktop.
  PHONE.addEventListener("change", () => map.refreshSize());
  const near = new NearPanel({
    prefix: PREFIX,
    current: () => session?.choice,
    showArea: (lat, lon, radius) => map.people.showNearArea(lat, lon, radius),
    flyTo: (nickname) => {
      if (PHONE.matches) showView("map");
      map.people.flyTo(nickname);
    },
    share: sharePosition,
  });

  const join = (choice: Choice) => {
    const problem = !rooms.includes(choice.room)
      ? `There is no room “${choice.room}” on this server.`
      : nicknameProblem(choice.nickname, rules);
    if (problem) return showJoinForm(problem);
    rememberChoice(window.localStorage, choice);
    session?.leave();
    map.clear();
    near.reset();
    ui.messages.replaceChildren();
    ui.users.replaceChildren();
    ui.likes.replaceChildren();
    ui.nbUsers.textContent = "";
    ui.roomTitle.textContent = `${choice.room} · ${choice.nickname}`;
    ui.historyStatus.textContent = "";
    ui.loadEarlier.hidden = false;
    ui.exportLink.href = roomPath(PREFIX, choice.room, "export.geojson");
    ui.exportLink.download = `${choice.room}.geojson`;
    ui.exportLink.hidden = false;
    ui.join.hidden = true;
    ui.chat.hidden = false;
    showView("chat");
    ui.leave.hidden = false;
    map.refreshSize();
    session = new ChatSession(
      choice,
      map,
      (reason) => {
        session = undefined;
        showJoinForm(reason);
      },
      showView,
    );
    session.start();
  };

  ui.join.addEventListener("submit", (event) => {
    event.preventDefault();
    join({ room: ui.joinRoom.value, nickname: ui.joinNickname.value.trim(), avatar: ui.joinAvatar.value || null });
  });
  ui.leave.addEventListener("click", () => {
    session?.leave();
    session = undefined;
    near.reset();
    showJoinForm("");
  });
  wireComposer(() => session, rules, map);
  ui.loadEarlier.addEventListener("click", () => void session?.loadEarlier());
  ui.lightboxClose.addEventListener("click", () => ui.lightbox.close());
  ui.lightbox.addEventListener("click", (event) => {
    if (event.target === ui.lightbox) ui.lightbox.close();
  });

  const remembered = rememberedChoice(window.localStorage);
  const link = deepLink(window.location.search);
  // A room remembered from another realm (the public rooms, another space) may not be here.
  const rememberedRoom = remembered.room !== undefined && rooms.includes(remembered.room) ? remembered.room : undefined;
  ui.joinRoom.value = link?.room ?? rememberedRoom ?? rooms[0] ?? "";
  ui.joinNickname.value = link?.nickname ?? remembered.nickname ?? "";
  ui.joinAvatar.value = remembered.avatar ?? "";
  if (link) join({ ...link, avatar: remembered.avatar ?? null });
}

/** The link to the room's GeoJSON export, over the map (its address is set on joining a room). */
function exportLink(map: HTMLElement): HTMLAnchorElement {
  const link = el("a", {
    className: "export-link",
    text: "Export the room's geodata (GeoJSON)",
    title: "Every layer, extent and position of the room's history, as one GeoJSON file (add its address to QGIS as a vector layer)",
    attrs: { id: "export-link" },
  });
  link.hidden = true;
  map.after(link);
  return link;
}

/** A space link says so, discreetly: the header and the title say "private space", never the key. */
function showRealm(): void {
  if (PREFIX === "") return;
  ui.spaceBadge.hidden = false;
  document.title = "gischat · private space";
  ui.joinHintLink.textContent = "…/?room=Room&nickname=jane_doe";
}

function fillJoinForm(rooms: string[]): void {
  ui.joinRoom.replaceChildren(...rooms.map((room) => el("option", { text: room, attrs: { value: room } })));
  ui.joinAvatar.replaceChildren(
    el("option", { text: "(none)", attrs: { value: "" } }),
    ...AVATARS.map((avatar) => el("option", { text: `${avatar.glyph} ${avatar.label}`, attrs: { value: avatar.name } })),
  );
}

function showJoinForm(error: string): void {
  ui.joinError.textContent = error;
  showReplyBar(undefined);
  ui.join.hidden = false;
  ui.chat.hidden = true;
  ui.leave.hidden = true;
  ui.roomTitle.textContent = "";
  ui.nbUsers.textContent = "";
  ui.loadEarlier.hidden = true;
  ui.historyStatus.textContent = "";
  ui.exportLink.hidden = true;
}

function wireComposer(current: () => ChatSession | undefined, rules: Rules, map: ChatMap): void {
  const sendBuilt = async (build: (session: ChatSession) => Promise<OutgoingMessage | undefined> | OutgoingMessage | undefined) => {
    const session = current();
    if (!session) return false;
    showComposerError("");
    const message = await build(session);
    return message !== undefined && session.send(message);
  };
  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    void sendBuilt((session) => textMessage(session, rules)).then((sent) => {
      if (sent) ui.composerText.value = "";
    });
  });
  ui.imageFile.addEventListener("change", () => {
    const file = ui.imageFile.files?.[0];
    if (file) void sendBuilt((session) => imageMessage(file, session, rules)).finally(() => (ui.imageFile.value = ""));
  });
  ui.geojsonFile.addEventListener("change", () => {
    const file = ui.geojsonFile.files?.[0];
    if (file) void sendBuilt((session) => geojsonMessage(file, session, rules)).finally(() => (ui.geojsonFile.value = ""));
  });
  ui.replyCancel.addEventListener("click", () => {
    current()?.cancelReply();
    ui.composerText.focus();
  });
  ui.composer.addEventListener("keydown", (event) => {
    const session = current();
    if (event.key === "Escape" && session?.replying) {
      event.preventDefault();
      session.cancelReply();
    }
  });
  ui.shareView.addEventListener("click", () => {
    void sendBuilt((session) => {
      const { nickname, avatar } = session.choice;
      return { type: "bbox", author: nickname, avatar, ...WGS84, ...map.currentExtent() };
    });
  });
}

void main();
