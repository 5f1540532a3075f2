// One list item per received message, built with DOM calls only: authors, texts,
// layer names, avatars and everything else from the wire are text nodes or
// attribute values, never markup.
import { authorColor, avatarGlyph } from "./avatars";
import { el } from "./dom";
import type { Received, ReceivedOf } from "./protocol";

export interface MessageActions {
  /** This user's nickname, for mentions and for not liking one's own messages. */
  me(): string;
  /** A located message (layer, extent, position) was clicked. */
  locate(messageId: string): void;
  like(message: ReceivedOf<"text">): void;
  enlarge(source: string): void;
}

/** Where a located message stands on the map, as decided by the map. */
export type MapStatus = { shown: true } | { shown: false; reason: string };

const MENTION = /(@[A-Za-z0-9_-]+)/;

/** The list item of a message authored by someone (text, image, layer…), or undefined for room events. */
export function renderAuthored(message: Received, actions: MessageActions, mapStatus?: MapStatus): HTMLLIElement | undefined {
  if (!("author" in message)) return undefined;
  const content = contentOf(message, actions);
  if (!content) return undefined;
  const item = el(
    "li",
    { className: `message type-${message.type}`, attrs: { "data-id": message.id, "data-type": message.type } },
    avatarBadge(message.author, message.avatar),
    el("div", { className: "body" }, meta(message), content),
  );
  if (message.type === "text" && mentionsMe(message.text, actions.me())) item.classList.add("mentions-me");
  if (message.type === "text" && message.author !== actions.me()) item.append(likeButton(message, actions));
  if (mapStatus) markLocated(item, message.id, mapStatus, actions);
  return item;
}

/** A line about the room itself: arrivals, departures, likes, refusals. */
export function renderEvent(text: string, kind: "info" | "like" | "error", timestamp?: number): HTMLLIElement {
  const item = el("li", { className: `event event-${kind}` }, el("span", { text }));
  if (kind === "error") item.setAttribute("role", "alert");
  if (timestamp !== undefined) item.prepend(timeOf(timestamp), " ");
  return item;
}

export function mentionsMe(text: string, me: string): boolean {
  const wanted = new Set(["@all", `@${me.toLowerCase()}`]);
  return text.split(MENTION).some((part) => wanted.has(part.toLowerCase()));
}

function contentOf(message: Received, actions: MessageActions): HTMLElement | undefined {
  switch (message.type) {
    case "text":
      return textWithMentions(message.text, actions.me());
    case "image":
      return chatImage(message, actions);
    case "geojson": {
      const count = Array.isArray(message.geojson.features) ? message.geojson.features.length : 0;
      return el("p", { text: `shared the layer “${message.layer_name}” (${count} feature${count === 1 ? "" : "s"}, ${message.crs_authid})` });
    }
    case "bbox":
      return el("p", {
        text: `shared an extent (${message.crs_authid}): ${round(message.xmin)}, ${round(message.ymin)} – ${round(message.xmax)}, ${round(message.ymax)}`,
      });
    case "position":
      return el("p", { text: `shared a position (${message.crs_authid}): ${round(message.x)}, ${round(message.y)}` });
    case "crs":
      return el("p", { text: `shared a CRS: ${message.crs_authid}` });
    case "model":
      return download(
        `shared the processing model “${message.model_name}”${message.model_group ? ` (${message.model_group})` : ""}`,
        message.raw_xml,
        `${message.model_name}.model3`,
        "application/xml",
      );
    case "script":
      return download(`shared the processing script “${message.name}”`, message.raw_pycode, `${message.name}.py`, "text/x-python");
    default:
      return undefined;
  }
}

function avatarBadge(author: string, avatar: string | null): HTMLElement {
  const badge = el("span", { className: "avatar", text: avatarGlyph(avatar, author), title: avatar ?? author, attrs: { "aria-hidden": "true" } });
  // CSSOM, not a style attribute: allowed by the page's style-src 'self'.
  badge.style.backgroundColor = authorColor(author);
  return badge;
}

function meta(message: Received & { author: string }): HTMLElement {
  const author = el("strong", { className: "author", text: message.author });
  author.style.color = authorColor(message.author);
  return el("div", { className: "meta" }, author, " ", timeOf(message.timestamp));
}

function timeOf(timestamp: number): HTMLTimeElement {
  const date = new Date(timestamp * 1000);
  return el("time", {
    text: date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
    title: date.toLocaleString(),
    attrs: { datetime: date.toISOString() },
  });
}

/** The text, with each @mention in its own span (those naming this user or @all stand out). */
function textWithMentions(text: string, me: string): HTMLElement {
  const paragraph = el("p", { className: "text" });
  for (const part of text.split(MENTION)) {
    if (!MENTION.test(part)) {
      paragraph.append(part);
      continue;
    }
    const forMe = mentionsMe(part, me);
    paragraph.append(el("span", { className: forMe ? "mention mention-me" : "mention", text: part }));
  }
  return paragraph;
}

function chatImage(message: ReceivedOf<"image">, actions: MessageActions): HTMLElement {
  // The server re-encodes every image as PNG; the base64 is only ever an image source.
  const source = `data:image/png;base64,${message.image_data}`;
  const image = el("img", { className: "chat-image", attrs: { alt: `image from ${message.author}`, loading: "lazy" } });
  image.src = source;
  const button = el("button", { className: "image-button", title: "Enlarge", attrs: { type: "button" } }, image);
  button.addEventListener("click", () => actions.enlarge(source));
  return button;
}

function likeButton(message: ReceivedOf<"text">, actions: MessageActions): HTMLButtonElement {
  const button = el("button", { className: "like", text: "♥", title: `Like ${message.author}'s message`, attrs: { type: "button" } });
  button.addEventListener("click", () => {
    actions.like(message);
    button.disabled = true;
  });
  return button;
}

function markLocated(item: HTMLLIElement, messageId: string, status: MapStatus, actions: MessageActions): void {
  if (!status.shown) {
    item.classList.add("not-on-map");
    item.querySelector(".body")?.append(el("p", { className: "map-problem", text: status.reason }));
    return;
  }
  item.classList.add("on-map");
  item.title = "Show on the map";
  item.tabIndex = 0;
  item.addEventListener("click", () => actions.locate(messageId));
  item.addEventListener("keydown", (event) => {
    if (event.key === "Enter") actions.locate(messageId);
  });
}

function download(label: string, content: string, filename: string, type: string): HTMLElement {
  const button = el("button", { className: "download", text: "Download", attrs: { type: "button" } });
  button.addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([content], { type }));
    const link = el("a", { attrs: { download: filename } });
    link.href = url;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  return el("p", {}, label, " ", button);
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) >= 1000 ? 1 : 5);
}
