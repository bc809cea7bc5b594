// The dashboard's routes and session. The URL is the state: #/ (overview, ?hosting&days),
// #/apps?… (table: q, hosting, status, region, risk, expires, sort, dir, after|before, from),
// #/app/<id>, #/person/<id>?role=…&(table parameters). Reload and shared links keep them.
"use strict";

const VIEWS = ["overview", "apps-view", "app-view", "person-view"];
let signedIn = false;

function parseHash() {
  const text = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = text.split("?");
  const [kind = "", id = ""] = path.split("/");
  return { kind, id: decodeURIComponent(id), params: new URLSearchParams(query) };
}

// The URL with `changes` (empty values dropped); filter changes go back to page one.
function hrefWith(base, params, changes, paging = false) {
  const next = new URLSearchParams(params);
  if (!paging) for (const key of ["after", "before", "from"]) next.delete(key);
  for (const [key, value] of Object.entries(changes)) {
    next.delete(key);
    for (const item of [value].flat()) if (item) next.append(key, item);
  }
  // one order for the same state, so an unchanged state is an unchanged URL
  const order = (key) => { const at = FILTER_KEYS.indexOf(key); return at < 0 ? FILTER_KEYS.length : at; };
  const sorted = new URLSearchParams([...next].sort((a, b) => order(a[0]) - order(b[0])));
  const query = sorted.toString();
  return `${base}${query ? `?${query}` : ""}`;
}
function goWith(base, params, changes, paging = false) {
  location.hash = hrefWith(base, params, changes, paging);
}

function showOnly(id) {
  for (const view of VIEWS) $(view).hidden = view !== id;
  for (const link of document.querySelectorAll(".nav a")) {
    if (link.dataset.view === id) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
}

async function showApps(params) {
  const box = $("apps-view");
  box.go = (changes, paging) => goWith("#/apps", params, changes, paging);
  if (!box.table) box.table = buildTable($("apps-table"), params, (changes, paging) => box.go(changes, paging));
  syncControls(box.table.form, params);
  document.title = "Apps · App ownership";
  await loadTable(box.table.results, params, (changes, paging) => box.go(changes, paging));
}

async function route() {
  if (!signedIn) return;
  const { kind, id, params } = parseHash();
  document.body.dataset.loaded = "false";
  const previous = document.body.dataset.view;
  try {
    if (kind === "app" && id) {
      showOnly("app-view");
      await showApp(id);
    } else if (kind === "person" && id) {
      showOnly("person-view");
      await showPerson(id, params, (changes, paging) => goWith(`#/person/${encodeURIComponent(id)}`, params, changes, paging));
    } else if (kind === "apps") {
      showOnly("apps-view");
      await showApps(params);
    } else {
      showOnly("overview");
      document.title = "App ownership";
      await showOverview(params);
    }
    document.body.dataset.view = kind || "overview";
    if (previous !== document.body.dataset.view) {
      window.scrollTo(0, 0);
      // keyboard and screen reader users land at the new view's heading
      const view = $(VIEWS.find((id) => !$(id).hidden));
      const heading = view && view.querySelector("h2.title");
      (heading || $("content")).focus({ preventScroll: true });
    }
  } catch (error) {
    if (error instanceof Unauthenticated) return signOut(error.message);
    $("status").replaceChildren(errorState(error, () => { $("status").replaceChildren(); route(); }));
  } finally {
    document.body.dataset.loaded = "true";
  }
}

// Forgets the token and everything drawn for it: nothing of the last viewer stays in the page.
function signOut(message = "") {
  signedIn = false;
  sessionStorage.removeItem(TOKEN_KEY);
  clearOverview();
  for (const id of ["app-view", "person-view", "apps-table"]) $(id).replaceChildren();
  delete $("person-view").dataset.person;
  $("apps-view").table = null;
  $("person-view").table = null;
  for (const view of VIEWS) $(view).hidden = true;
  $("nav").hidden = true;
  $("sign-out").hidden = true;
  $("viewer").textContent = "";
  $("status").replaceChildren();
  $("login").hidden = false;
  $("login-error").textContent = message;
  document.body.dataset.loaded = "true";
  document.title = "Sign in · App ownership";
  $("token").focus();
}

async function start() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return signOut();
  $("login").hidden = true;
  $("status").replaceChildren(loadingState("Signing in…"));
  document.body.dataset.loaded = "false";
  try {
    const { viewer } = await gql("Viewer");
    $("viewer").textContent = `${viewer.name} · ${viewer.isSupport ? "Mendix Support (all apps)" : "your apps"}`;
  } catch (error) {
    if (error instanceof Unauthenticated) return signOut(error.message);
    $("status").replaceChildren(errorState(error, start));
    document.body.dataset.loaded = "true";
    return;
  }
  $("status").replaceChildren();
  signedIn = true;
  $("nav").hidden = false;
  $("sign-out").hidden = false;
  await route();
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = "";
  start();
});
$("sign-out").addEventListener("click", () => signOut());
$("risk-hosting").addEventListener("change", () => goWith("#/", parseHash().params, { hosting: $("risk-hosting").value }));
$("risk-days").addEventListener("change", () => goWith("#/", parseHash().params, { days: $("risk-days").value }));
$("owners-more").addEventListener("click", () => loadOwners(true).catch((error) => {
  if (error instanceof Unauthenticated) signOut(error.message);
  else $("owners-chart").append(errorState(error));
}));
window.addEventListener("hashchange", route);
start();
