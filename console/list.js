import { ageOf, blockerCounts, executionText, h, timeOf } from "./dom.js";

/** Pending before ready; newest request first within each; the id breaks ties. */
const compareRows = (a, b) =>
  (a.deletion.status === "pending" ? 0 : 1) - (b.deletion.status === "pending" ? 0 : 1) ||
  Date.parse(b.deletion.requested_at) - Date.parse(a.deletion.requested_at) ||
  a.user_identity_id.localeCompare(b.user_identity_id);

/** A cell labelled by its column: on a phone the label shows beside the one value box. */
const cell = (label, ...content) => h("td", { "data-label": label }, h("div", {}, ...content));

const rowOf = (readiness) => {
  const id = readiness.user_identity_id;
  const { status, requested_at: requestedAt, execution } = readiness.deletion;
  const counts = blockerCounts(readiness.blockers);
  return h(
    "tr",
    { "data-id": id, "data-status": status },
    cell("User identity", h("a", { class: "id", href: `#/identity/${id}` }, id)),
    cell("Status", h("span", { class: `status ${status}` }, status)),
    cell("Requested at", timeOf(requestedAt)),
    cell("Age", ageOf(requestedAt)),
    cell(
      "Blockers",
      counts.length === 0 ? "—" : counts.flatMap((text, i) => (i === 0 ? [text] : [", ", text])),
    ),
    cell("Execution", executionText(execution)),
  );
};

/**
 * The table of deletions, keyed by identity: a row is rebuilt only when its readiness object
 * changed, and rows are moved, not rebuilt, when the order changes (a row that turns ready
 * goes below the pending ones), so a live update of one row costs one row.
 */
export const createList = ({ tbody, empty, count }) => {
  const built = new Map();
  return {
    render(rows, filter) {
      const shown = [...rows.values()]
        .filter((row) => filter === "all" || row.deletion.status === filter)
        .sort(compareRows);
      const elements = shown.map((readiness) => {
        const key = JSON.stringify(readiness);
        let entry = built.get(readiness.user_identity_id);
        if (entry?.key !== key) {
          entry = { key, element: rowOf(readiness) };
          built.set(readiness.user_identity_id, entry);
        }
        return entry.element;
      });
      const ids = new Set(shown.map((row) => row.user_identity_id));
      for (const id of built.keys()) if (!ids.has(id)) built.delete(id);
      let cursor = tbody.firstElementChild;
      for (const element of elements) {
        if (element === cursor) cursor = cursor.nextElementSibling;
        else tbody.insertBefore(element, cursor);
      }
      while (cursor) {
        const next = cursor.nextElementSibling;
        cursor.remove();
        cursor = next;
      }
      empty.hidden = shown.length > 0;
      const pending = shown.filter((row) => row.deletion.status === "pending").length;
      count.textContent = `${pending} pending, ${shown.length - pending} ready`;
    },
  };
};
