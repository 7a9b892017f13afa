// Building blocks for the admin view's DOM: elements made from data with text nodes only (never
// parsed HTML, so a message body can not inject markup), lookups of the page's fixed elements,
// and the formats the views share.
import type { ConsentMethod, ConsentStatus } from "./generated/graphql.ts";

type Attribute = string | number | boolean | null | undefined;
export type Child = Node | string | number | null | undefined | false;

/** An element with attributes (`true` sets an empty one; false, null and undefined leave it off). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, Attribute> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** One of the page's fixed elements (index.html); a missing one is a build mistake. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`admin: #${id} is missing from the page`);
  return element;
}

const STATUS_LABELS: Record<ConsentStatus, string> = {
  PENDING: "Pending",
  OPTED_IN: "Opted in",
  OPTED_OUT: "Opted out",
  EXPIRED: "Expired",
};

const METHOD_LABELS: Record<ConsentMethod, string> = {
  WEB_FORM: "web form",
  CHECKBOX: "checkbox",
  KEYWORD: "keyword",
  API: "API",
  IMPORT: "import",
  ADMIN: "admin",
};

/** How a consent changed, as a phrase: "by keyword", "by API". */
export const byMethod = (method: ConsentMethod) => `by ${METHOD_LABELS[method]}`;

/** "1 event", "3 events". */
export const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** A consent status as a labelled pill; the word carries the meaning, the colour only repeats it. */
export function statusPill(status: ConsentStatus | null | undefined): HTMLElement {
  if (!status) return h("span", { class: "pill pill-none" }, "None");
  return h(
    "span",
    { class: `pill pill-${status.toLowerCase().replace("_", "-")}` },
    STATUS_LABELS[status],
  );
}

/** fromStatus → toStatus, read aloud as "from … to …". */
export function transition(from: ConsentStatus | null | undefined, to: ConsentStatus): HTMLElement {
  return h(
    "span",
    { class: "transition" },
    h("span", { class: "visually-hidden" }, "from "),
    statusPill(from),
    h("span", { "aria-hidden": "true", class: "arrow" }, " → "),
    h("span", { class: "visually-hidden" }, " to "),
    statusPill(to),
  );
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

/** A <time> element in the reader's time zone; `short` shows the time of day only. */
export function time(iso: string, short = false): HTMLTimeElement {
  const date = new Date(iso);
  return h(
    "time",
    { datetime: iso, title: dateTime.format(date) },
    (short ? timeOnly : dateTime).format(date),
  );
}

/** A hash in full (the ledger's evidence), breakable anywhere so it fits a phone. */
export function hash(value: string): HTMLElement {
  return h("code", { class: "hash" }, value);
}
