// Building DOM without markup: every string given here becomes text or an
// attribute value, never HTML. This is what keeps a message like
// `<img src=x onerror=alert(1)>` inert, whatever field it arrives in.

interface Options {
  className?: string;
  text?: string;
  title?: string;
  /** Plain attributes (data-*, aria-*, type…). Never an event handler, never a URL from a message. */
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: Options = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (options.className) element.className = options.className;
  if (options.text !== undefined) element.textContent = options.text;
  if (options.title !== undefined) element.title = options.title;
  for (const [name, value] of Object.entries(options.attrs ?? {})) element.setAttribute(name, value);
  // append() turns strings into text nodes.
  element.append(...children);
  return element;
}

/** The element with this id, of the expected kind; a missing one is a bug in index.html. */
export function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof kind)) throw new Error(`index.html has no <${kind.name}> #${id}`);
  return element;
}
