// One list item per received message, built with DOM calls only: authors, texts,
// layer names, avatars and everything else from the wire are text nodes or
// attribute values, never markup.
import { authorColor, avatarGlyph } from "./avatars";
import { el } from "./dom";
import type { Received, ReceivedOf, ThreadedType } from "./protocol";
import { isThreaded, quoteOf, replyTargetOf, summaryOf } from "./threads";

export interface MessageActions {
  /** This user's nickname, for mentions and for not liking one's own messages. */
  me(): string;
  /** A located message (layer, extent, position) was clicked. */
  locate(messageId: string): void;
  like(message: ReceivedOf<"text">): void;
  enlarge(source: string): void;
  /** The message with this id, if this page received it (the session's index of messages). */
  find(messageId: string): Received | undefined;
  /** Reply was clicked on a message: the composer answers it. */
  reply(message: ReceivedOf<ThreadedType>): void;
  /** The quote of a message was clicked: scroll to that message and highlight it. */
  showMessage(messageId: string): void;
}

export const NOT_SHOWN_QUOTE = "Reply to a message that is not shown here";

/** Where a located message stands on the map, as decided by the map. */
export type MapStatus = { shown: true } | { shown: false; reason: string };

const MENTION = /(@[A-Za-z0-9_-]+)/;

/** The list item of a message authored by someone (text, image, layer…), or undefined for room events. */
export function renderAuthored(message: Received, actions: MessageActions, mapStatus?: MapStatus): HTMLLIElement | undefined {
  if (!("author" in message)) return undefined;
  const content = contentOf(message, actions);
  if (!content) return undefined;
  const inReplyTo = replyTargetOf(message);
  const body = el("div", { className: "body" }, meta(message), content);
  if (inReplyTo !== undefined) body.prepend(replyQuote(inReplyTo, actions));
  const item = el(
    "li",
    { className: `message type-${message.type}`, attrs: { "data-id": message.id, "data-type": message.type } },
    avatarBadge(message.author, message.avatar),
    body,
  );
  if (inReplyTo !== undefined) {
    item.classList.add("is-reply");
    item.setAttribute("data-reply-to", inReplyTo);
  }
  if (message.type === "text" && mentionsMe(message.text, actions.me())) item.classList.add("mentions-me");
  const buttons: HTMLElement[] = [];
  if (isThreaded(message)) buttons.push(replyButton(message, actions));
  if (message.type === "text" && message.author !== actions.me()) buttons.push(likeButton(message, actions));
  if (buttons.length > 0) item.append(el("div", { className: "message-actions" }, ...buttons));
  if (mapStatus) markLocated(item, message.id, mapStatus, actions);
  return item;
}

/**
 * Quotes the message again in every reply to it shown in `list`: once it is shown
 * (an earlier page brought it) the quote names it, once it is gone (a moderator
 * deleted it) the quote says it is not shown.
 */
export function refreshQuotesOf(list: ParentNode, messageId: string, actions: MessageActions): void {
  for (const reply of list.querySelectorAll<HTMLElement>(`li[data-reply-to="${CSS.escape(messageId)}"]`)) {
    reply.querySelector(".reply-quote")?.replaceWith(replyQuote(messageId, actions));
  }
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
    case "geojson":
    case "bbox":
    case "position":
    case "crs":
      return el("p", { text: summaryOf(message) ?? "" });
    case "model":
      return download(summaryOf(message) ?? "", message.raw_xml, `${message.model_name}.model3`, "application/xml");
    case "script":
      return download(summaryOf(message) ?? "", message.raw_pycode, `${message.name}.py`, "text/x-python");
    default:
      return undefined;
  }
}

function avatarBadge(author: string, avatar: string | null): HTMLElement {
  const badge = el("span", {
    className: "avatar",
    text: avatarGlyph(avatar, author),
    title: avatar ?? author,
    attrs: { "aria-hidden": "true" },
  });
  // CSSOM, not a style attribute: allowed by the page's style-src 'self'.
  badge.style.backgroundColor = authorColor(author);
  return badge;
}

function meta(message: Received & { author: string }): HTMLElement {
  return el("div", { className: "meta" }, authorName(message.author, "author"), " ", timeOf(message.timestamp));
}

function authorName(author: string, className: string): HTMLElement {
  const name = el("strong", { className, text: author });
  name.style.color = authorColor(author);
  return name;
}

/** Above a reply: who wrote the message it answers and how it starts; a click shows that message. */
function replyQuote(inReplyTo: string, actions: MessageActions): HTMLElement {
  const original = actions.find(inReplyTo);
  const quote = original && quoteOf(original);
  if (!quote) return el("p", { className: "reply-quote reply-missing", text: NOT_SHOWN_QUOTE });
  const button = el(
    "button",
    { className: "reply-quote", title: `Show ${quote.author}'s message`, attrs: { type: "button" } },
    el("span", { className: "reply-arrow", text: "↩", attrs: { "aria-hidden": "true" } }),
    authorName(quote.author, "reply-author"),
    el("span", { className: "reply-snippet", text: quote.text }),
  );
  button.addEventListener("click", (event) => {
    // Not a click on the reply itself (which flies to it on the map, for a layer).
    event.stopPropagation();
    actions.showMessage(inReplyTo);
  });
  return button;
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

function replyButton(message: ReceivedOf<ThreadedType>, actions: MessageActions): HTMLButtonElement {
  const button = el("button", {
    className: "reply-button",
    text: "Reply",
    title: `Reply to ${message.author}'s message`,
    attrs: { type: "button" },
  });
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    actions.reply(message);
  });
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
    // Enter on a button inside (Reply, a quote) is that button's.
    if (event.key === "Enter" && event.target === item) actions.locate(messageId);
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
