import { ageOf, executionText, h, timeOf } from "./dom.js";

const field = (term, ...value) => [h("dt", {}, term), h("dd", {}, ...value)];

const summaryOf = (readiness) => {
  const deletion = readiness?.deletion;
  if (!deletion) return h("p", { class: "muted" }, "No deletion is requested for this identity.");
  const execution = deletion.execution;
  return h(
    "dl",
    { class: "summary" },
    field("Status", h("span", { class: `status ${deletion.status}` }, deletion.status)),
    field("Requested at", timeOf(deletion.requested_at), " (", ageOf(deletion.requested_at), ")"),
    field("Ready at", timeOf(deletion.ready_at)),
    field(
      "Execution",
      execution ? `${execution.strategy}: ${executionText(execution)}` : executionText(execution),
    ),
    execution?.error
      ? field(
          "Error",
          h("span", { class: "error" }, `${execution.error.code}: ${execution.error.message}`),
        )
      : [],
  );
};

const blockersOf = (blockers) =>
  blockers.length === 0
    ? h("p", { class: "muted" }, "None: nothing blocks this deletion.")
    : h(
        "ul",
        { class: "blockers" },
        blockers.map(({ type, id }) =>
          h("li", {}, h("span", { class: "type" }, type), " ", h("span", { class: "id" }, id)),
        ),
      );

const callOf = (call) =>
  h(
    "li",
    {},
    h("span", { class: "type" }, call.type),
    " ",
    h("span", { class: "id" }, call.id),
    ` ${call.state}; delete calls ${call.delete_calls}, get calls ${call.get_calls}`,
    call.answer ? `; answer ${call.answer}` : "",
  );

const stepsOf = (steps, execution) => {
  // The history lists every step of an execution (CONTRACT §8), none without one.
  if (!execution || steps.length === 0) return h("p", { class: "muted" }, "No execution.");
  return h(
    "ol",
    { class: "steps" },
    steps.map(({ step, state, calls }) =>
      h(
        "li",
        { "data-step": step, "data-state": state },
        h("span", { class: "step" }, step),
        " ",
        h("span", { class: `state ${state}` }, state),
        calls.length > 0 ? h("ul", { class: "calls" }, calls.map(callOf)) : [],
      ),
    ),
  );
};

const entriesOf = (history) => {
  if (!history) return h("p", { class: "muted" }, "No history.");
  return h(
    "ol",
    { class: "entries" },
    history.entries.map((entry) =>
      h(
        "li",
        { "data-what": entry.what },
        timeOf(entry.at),
        " ",
        h("span", { class: "text" }, entry.text),
        // The resource an entry is about, unless its line names it already.
        entry.id && !entry.text.includes(entry.id)
          ? [" ", h("span", { class: "id" }, entry.id)]
          : [],
      ),
    ),
  );
};

/**
 * One identity's page: what `render` is given is all it shows, and the buttons call
 * `actions` (cancel, execute with a strategy, resume). Cancel asks once more before it acts.
 */
export const createDetail = (container, actions) => {
  let confirming = false;
  let view;
  const render = (next = view) => {
    view = next;
    const { id, readiness, history, canExecute, busy, message } = view;
    const deletion = readiness?.deletion;
    const execution = deletion?.execution;
    const buttons = [];
    if (deletion) {
      if (confirming) {
        buttons.push(
          h("span", {}, "Cancel this deletion? "),
          h(
            "button",
            {
              type: "button",
              class: "danger",
              disabled: busy,
              onclick: () => {
                confirming = false;
                actions.cancel(id);
              },
            },
            "Yes, cancel it",
          ),
          h(
            "button",
            {
              type: "button",
              onclick: () => {
                confirming = false;
                render();
              },
            },
            "Keep it",
          ),
        );
      } else {
        buttons.push(
          h(
            "button",
            {
              type: "button",
              disabled: busy,
              onclick: () => {
                confirming = true;
                render();
              },
            },
            "Cancel deletion…",
          ),
        );
      }
      if (canExecute && !execution) {
        const strategy = h(
          "select",
          { id: "strategy", "aria-label": "Strategy" },
          h("option", { value: "stepwise" }, "stepwise"),
          h("option", { value: "cascade" }, "cascade"),
        );
        buttons.push(
          strategy,
          h(
            "button",
            {
              type: "button",
              class: "primary",
              disabled: busy,
              onclick: () => actions.execute(id, strategy.value),
            },
            "Execute in Seam",
          ),
        );
      }
      if (canExecute && execution?.status === "failed") {
        buttons.push(
          h(
            "button",
            {
              type: "button",
              class: "primary",
              disabled: busy,
              onclick: () => actions.execute(id),
            },
            "Resume execution",
          ),
        );
      }
    }
    container.replaceChildren(
      h("p", {}, h("a", { href: "#/" }, "← All deletions")),
      h("h2", {}, "User identity ", h("span", { class: "id" }, id)),
      readiness === undefined ? h("p", { class: "muted" }, "Loading…") : summaryOf(readiness),
      h("div", { class: "actions" }, buttons),
      message ? h("p", { class: "error", role: "alert" }, message) : [],
      h("h3", {}, "Blockers"),
      readiness ? blockersOf(readiness.blockers) : [],
      h("h3", {}, "Execution steps"),
      stepsOf(history?.steps ?? [], execution),
      h("h3", {}, "History"),
      entriesOf(history),
    );
  };
  return {
    render,
    /** A new identity forgets a pending confirmation. */
    reset: () => {
      confirming = false;
    },
  };
};
