/**
 * The page's small toolkit: elements built by hand (no inline style, no HTML strings, so the
 * policy's `style-src 'self'` holds and no text is ever parsed as markup), and the formats.
 */

/** An element with attributes (`class`, `data-*`, `on*` handlers, booleans) and children. */
export const h = (tag, attributes = {}, ...children) => {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false || value === null) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.flat().filter((child) => child !== undefined && child !== null));
  return element;
};

/** A moment in the browser's time zone, with the ISO instant in `datetime`. */
export const timeOf = (iso) =>
  iso ? h("time", { datetime: iso }, new Date(iso).toLocaleString()) : "—";

/** `42 s`, `5 min`, `3 h 20 min`, `2 d 4 h`: how long ago, to the unit that matters. */
export const formatAge = (iso, now = Date.now()) => {
  const seconds = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
};

/** An age that the page's ticker keeps current (see `refreshAges`). */
export const ageOf = (iso) => h("span", { class: "age", "data-since": iso }, formatAge(iso));

/** Every age on the page, recomputed locally: no request. */
export const refreshAges = (root = document) => {
  const now = Date.now();
  for (const element of root.querySelectorAll(".age[data-since]")) {
    const text = formatAge(element.dataset.since, now);
    if (element.textContent !== text) element.textContent = text;
  }
};

/** `acs_credential: 2, acs_user: 1`, in the order the types first appear; `—` for none. */
export const blockerCounts = (blockers) => {
  const counts = new Map();
  for (const { type } of blockers) counts.set(type, (counts.get(type) ?? 0) + 1);
  return [...counts].map(([type, count]) => `${type}: ${count}`);
};

/** `acs_credentials running`, `completed`, or `—` without an execution. */
export const executionText = (execution) => {
  if (!execution) return "—";
  return execution.step ? `${execution.step} ${execution.status}` : execution.status;
};
