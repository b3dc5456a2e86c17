import { ApiError, api, authorization, forgetToken, Refused, readToken, saveToken } from "./api.js";
import { createDetail } from "./detail.js";
import { refreshAges } from "./dom.js";
import { createList } from "./list.js";
import { readEvents } from "./sse.js";

const $ = (id) => document.getElementById(id);
const REFUSED = "The token was refused. Enter a token of API_TOKENS.";
const AGE_TICK_MS = 5000;

/** What the page knows: one session's rows, the identity in view, the service's abilities. */
const state = {
  rows: new Map(),
  filter: "all",
  canExecute: false,
  /** The stream of the signed-in session; aborted at sign-out. */
  session: undefined,
  /** `{ id, readiness, history, busy, message }` while one identity is shown. */
  detail: undefined,
};

const list = createList({ tbody: $("rows"), empty: $("empty"), count: $("count") });
const detail = createDetail($("detail"), {
  cancel: (id) =>
    act(id, async () => {
      await api.cancel(id);
      // Gone: the refresh after asks for no history (the stream's event may come after it).
      if (state.detail?.id === id)
        state.detail.readiness = { ...state.detail.readiness, deletion: null };
    }),
  execute: (id, strategy) => act(id, () => api.execute(id, strategy)),
});

// Renders are coalesced: a burst of events costs one pass over the rows.
let renderQueued = false;
const render = () => {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => {
    renderQueued = false;
    if (!state.session) return;
    if (state.detail) detail.render({ ...state.detail, canExecute: state.canExecute });
    else list.render(state.rows, state.filter);
  }, 0);
};

const show = (view) => {
  $("sign-in").hidden = view !== "sign-in";
  $("list").hidden = view !== "list";
  $("detail").hidden = view !== "detail";
  for (const id of ["sign-out", "queue", "link-state"]) $(id).hidden = view === "sign-in";
};

const showLink = (text) => {
  $("link-state").textContent = text;
  $("link-state").dataset.state = text === "live" ? "live" : "down";
};

// ---- the rows, from the list and from the stream ----

/** One readiness object into the rows: a canceled deletion (`deletion` null) leaves. */
const applyReadiness = (readiness) => {
  if (readiness.deletion) state.rows.set(readiness.user_identity_id, readiness);
  else state.rows.delete(readiness.user_identity_id);
  if (state.detail?.id === readiness.user_identity_id) {
    state.detail.readiness = readiness;
    refreshDetail();
  }
};

/**
 * Lists pending and ready deletions anew. Events that arrive meanwhile are held and applied
 * after, in order: each is a whole readiness object in commit order, so the last one wins
 * whether the list saw its change or not. A later list supersedes one still under way; a list
 * that fails drops the connection, whose reconnection lists again.
 */
const relist = async (session) => {
  const listing = { held: [] };
  session.listing = listing;
  try {
    const [pending, ready] = await Promise.all([api.deletions("pending"), api.deletions("ready")]);
    if (session !== state.session || session.listing !== listing) return;
    session.listing = undefined;
    state.rows = new Map();
    for (const readiness of [...pending.items, ...ready.items, ...listing.held]) {
      applyReadiness(readiness);
    }
    render();
  } catch (error) {
    if (session.listing === listing) session.listing = undefined;
    fail(session, error);
    session.connection?.abort();
  }
};

const onEvent = (session, event) => {
  if (event.type === "readiness") {
    const readiness = JSON.parse(event.data);
    if (session.listing) session.listing.held.push(readiness);
    else applyReadiness(readiness);
    render();
  } else if (event.type === "queue") {
    const { waiting, failed } = JSON.parse(event.data);
    $("queue-waiting").textContent = String(waiting);
    $("queue-failed").textContent = String(failed);
    $("queue").dataset.failed = failed > 0 ? "some" : "none";
  } else if (event.type === "resync") {
    void relist(session);
    if (state.detail) refreshDetail();
  }
};

/**
 * Follows `/v1/deletions/events` for as long as the session lasts. A dropped stream is opened
 * again with `Last-Event-ID`, to which the service answers `resync` (then the rows are listed
 * anew); a first connection, or one without an id to send, lists at once.
 */
const follow = async (session) => {
  let lastEventId;
  let delayMs = 250;
  while (session === state.session) {
    try {
      const headers = authorization();
      if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
      session.connection = new AbortController();
      const response = await fetch("/v1/deletions/events", {
        headers,
        cache: "no-store",
        signal: session.connection.signal,
      });
      if (response.status === 401) throw new Refused("the token was refused");
      if (!response.ok || !response.body) throw new ApiError(response.status, null);
      showLink("live");
      delayMs = 250;
      if (lastEventId === undefined) void relist(session);
      for await (const event of readEvents(response.body)) {
        if (event.id !== undefined) lastEventId = event.id;
        onEvent(session, event);
      }
    } catch (error) {
      if (session !== state.session) return;
      if (error instanceof Refused) return fail(session, error);
    }
    if (session !== state.session) return;
    showLink("reconnecting…");
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 10_000);
  }
};

// ---- one identity ----

let detailLoading = false;
let detailDirty = false;

/** Reads the identity in view again; calls that overlap run once more after, not together. */
const refreshDetail = async () => {
  if (detailLoading) {
    detailDirty = true;
    return;
  }
  const view = state.detail;
  if (!view) return;
  detailLoading = true;
  try {
    const readHistory = () =>
      api.history(view.id).catch((error) => {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      });
    // No history is asked for a deletion known to be gone (a 404 the console would show as an
    // error); with a deletion known, both are asked together.
    const reading = api.readiness(view.id);
    const [readiness, history] = await Promise.all([
      reading,
      view.readiness?.deletion
        ? readHistory()
        : reading.then((next) => (next.deletion ? readHistory() : null)),
    ]);
    if (state.detail === view) Object.assign(view, { readiness, history });
  } catch (error) {
    if (error instanceof Refused) return fail(state.session, error);
    if (state.detail === view) view.message = error.message;
  } finally {
    detailLoading = false;
    render();
  }
  if (detailDirty) {
    detailDirty = false;
    void refreshDetail();
  }
};

/** A button's call; its outcome shows through the stream, an error beside the buttons. */
const act = async (id, run) => {
  const view = state.detail;
  if (view?.id !== id) return;
  Object.assign(view, { busy: true, message: undefined });
  render();
  try {
    await run();
  } catch (error) {
    if (error instanceof Refused) return fail(state.session, error);
    view.message = error.message;
  }
  view.busy = false;
  refreshDetail();
};

// ---- routes, sign-in, sign-out ----

const IDENTITY_ROUTE = /^#\/identity\/([^/]+)$/;

const route = () => {
  if (!state.session) return;
  const match = IDENTITY_ROUTE.exec(location.hash);
  if (match) {
    const id = decodeURIComponent(match[1]);
    if (state.detail?.id !== id) {
      detail.reset();
      state.detail = { id, readiness: state.rows.get(id), history: undefined };
      refreshDetail();
    }
    show("detail");
  } else {
    state.detail = undefined;
    show("list");
  }
  render();
};

const start = (service) => {
  state.canExecute = service?.execute === true;
  const session = { connection: undefined, listing: undefined };
  state.session = session;
  showLink("connecting…");
  route();
  void follow(session);
};

const signOut = (message) => {
  state.session?.connection?.abort();
  Object.assign(state, { session: undefined, detail: undefined, rows: new Map() });
  list.render(state.rows, state.filter);
  forgetToken();
  $("sign-in-error").textContent = message ?? "";
  $("sign-in-error").hidden = !message;
  show("sign-in");
  $("token").focus();
};

/** A 401 anywhere ends the session and asks for a token again, saying why. */
const fail = (session, error) => {
  if (session !== state.session) return;
  if (error instanceof Refused) signOut(REFUSED);
  else showLink(`error: ${error.message}`);
};

/** `/v1/service` says whether executions are possible, and checks the token on the way. */
const readService = async (token) => {
  try {
    return await api.service(token);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { execute: false };
    throw error;
  }
};

$("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  try {
    const service = await readService(token);
    saveToken(token);
    $("token").value = "";
    start(service);
  } catch (error) {
    signOut(error instanceof Refused ? REFUSED : `Sign-in failed: ${error.message}`);
  }
});

$("sign-out").addEventListener("click", () => signOut());
$("filter").addEventListener("change", () => {
  state.filter = $("filter").value;
  render();
});
window.addEventListener("hashchange", route);
setInterval(() => refreshAges(), AGE_TICK_MS);

const boot = async () => {
  const token = readToken();
  if (!token) return signOut();
  try {
    start(await readService(token));
  } catch (error) {
    signOut(error instanceof Refused ? REFUSED : `Sign-in failed: ${error.message}`);
  }
};
void boot();
