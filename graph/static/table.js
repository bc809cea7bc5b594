// The apps table: search, filters, sorting and keyset paging, all kept in the URL (main.js
// owns the URL; this file reads its parameters and asks for new ones through `go`).
"use strict";

const PAGE_SIZE = 25;
// (LICENSE_EXPIRING is the "License expires within" select: the risk's horizon is that window)
const RISK_VALUES = [
  "TECHNICAL_CONTACT_INACTIVE", "TECHNICAL_CONTACT_WITHOUT_MENDIX_ID", "NO_ALERT_EMAIL",
  "PRODUCTION_MANAGE_PERMISSIONS_HELD_BY_OTHERS",
];
const SORTS = { NAME: "Name", NEXT_LICENSE_EXPIRY: "Next license expiry", ORDERED_AT: "Ordered", DELIVERED_AT: "Delivered" };
const EXPIRY_WINDOWS = [30, 60, 90, 180, 365];
// URL parameters that choose the rows (changing one starts again at page one)
const FILTER_KEYS = ["q", "hosting", "status", "region", "risk", "expires", "sort", "dir", "role"];

// The AppsFilter and AppOrder that the URL parameters describe.
function tableFilter(params, fixed = {}) {
  const filter = { ...fixed };
  const list = (key) => params.getAll(key).filter(Boolean);
  if (params.get("q")) filter.search = params.get("q");
  if (list("hosting").length) filter.hosting = list("hosting");
  if (list("status").length) filter.status = list("status");
  if (list("region").length) filter.region = list("region");
  if (list("risk").length) filter.risks = list("risk");
  const days = Number(params.get("expires"));
  if (Number.isInteger(days) && days > 0) filter.licenseExpiresWithinDays = days;
  return filter;
}
function tableOrder(params) {
  const field = SORTS[params.get("sort")] ? params.get("sort") : "NAME";
  return { field, direction: params.get("dir") === "DESC" ? "DESC" : "ASC" };
}
function tableVariables(params, fixed) {
  const variables = { filter: tableFilter(params, fixed), orderBy: tableOrder(params) };
  if (params.get("before")) Object.assign(variables, { last: PAGE_SIZE, before: params.get("before") });
  else Object.assign(variables, { first: PAGE_SIZE, after: params.get("after") || null });
  return variables;
}

function selectControl(name, text, options, params) {
  const select = el("select", { name, id: `filter-${name}` },
    el("option", { value: "" }, "All"),
    ...options.map(([value, caption]) => el("option", { value }, caption)));
  select.value = params.get(name) || "";
  return el("label", { class: "filter" }, text, " ", select);
}

// Builds the controls once; `go(changes)` rewrites the URL (main.js), which calls load again.
function buildTable(box, params, go) {
  const search = el("input", { type: "search", name: "q", id: "filter-q", placeholder: "Name or subdomain",
    value: params.get("q") || "", "aria-label": "Search apps by name or subdomain" });
  const risks = el("fieldset", { class: "risks" }, el("legend", {}, "Risks"),
    ...RISK_VALUES.map((risk) => el("label", {},
      el("input", { type: "checkbox", name: "risk", value: risk, checked: params.getAll("risk").includes(risk) }),
      ` ${label(risk)}`)));
  const region = el("select", { name: "region", id: "filter-region" }, el("option", { value: "" }, "All"));
  if (params.get("region")) region.append(el("option", { value: params.get("region") }, params.get("region")));
  region.value = params.get("region") || "";
  fillRegions(region);
  const form = el("form", { class: "filters", role: "search", "data-testid": "apps-filters" },
    el("label", { class: "filter grow" }, "Search ", search),
    selectControl("hosting", "Hosting", [["MENDIX_CLOUD", "Mendix Cloud"], ["ON_PREMISES", "On-Premises"]], params),
    selectControl("status", "Status", [["ORDERED", "Ordered"], ["DELIVERED", "Delivered"]], params),
    el("label", { class: "filter" }, "Region ", region),
    selectControl("expires", "License expires within",
      EXPIRY_WINDOWS.map((days) => [String(days), `${days} days`]), params),
    risks,
    el("button", { type: "submit" }, "Apply"),
    el("a", { href: "#", class: "clear", "data-action": "clear" }, "Clear filters"));
  const read = () => {
    const data = new FormData(form);
    return { q: data.get("q").trim(), hosting: data.get("hosting"), status: data.get("status"),
      region: data.get("region"), expires: data.get("expires"), risk: data.getAll("risk") };
  };
  let timer;
  const apply = () => { clearTimeout(timer); go(read()); };
  form.addEventListener("submit", (event) => { event.preventDefault(); apply(); });
  form.addEventListener("change", (event) => { if (event.target.name !== "q") apply(); });
  // typing searches after a pause, unless the user has moved on (another view, or Enter)
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { if (form.isConnected && form.offsetParent !== null) go(read()); }, 350);
  });
  form.querySelector("[data-action=clear]").addEventListener("click", (event) => {
    event.preventDefault();
    go({ q: "", hosting: "", status: "", region: "", expires: "", risk: [] });
  });
  const results = el("div", { class: "results", "aria-live": "polite" });
  box.replaceChildren(form, results);
  return { form, results };
}

// Puts the URL's values into the controls (back/forward, shared links).
function syncControls(form, params) {
  for (const name of ["q", "hosting", "status", "region", "expires"]) {
    const control = form.elements[name];
    const value = params.get(name) || "";
    if (!control || document.activeElement === control) continue;
    if (control.tagName === "SELECT" && value && ![...control.options].some((o) => o.value === value)) {
      control.append(el("option", { value }, value));  // a shared link's value, shown as chosen
    }
    control.value = value;
  }
  for (const box of form.querySelectorAll("input[name=risk]")) box.checked = params.getAll("risk").includes(box.value);
}

function sortHeader(key, params, go) {
  const order = tableOrder(params);
  const active = order.field === key;
  const next = active && order.direction === "ASC" ? "DESC" : "ASC";
  const button = el("button", { type: "button", class: "sort", "data-sort": key,
    title: `Sort by ${SORTS[key].toLowerCase()} (${next === "ASC" ? "ascending" : "descending"})` },
    SORTS[key], active ? (order.direction === "ASC" ? " ▲" : " ▼") : "");
  button.addEventListener("click", () => go({ sort: key, dir: next }));
  return el("th", { scope: "col", "aria-sort": active ? (order.direction === "ASC" ? "ascending" : "descending") : "none" }, button);
}

function appRow(app) {
  return el("tr", { "data-testid": "app-row" },
    el("th", { scope: "row" }, appLink(app), el("div", { class: "muted small" }, app.subdomain)),
    el("td", {}, label(app.hosting)),
    el("td", {}, el("span", { class: `badge ${app.status === "ORDERED" ? "warn" : "ok"}` }, label(app.status))),
    el("td", {}, app.region || el("span", { class: "muted" }, "—")),
    el("td", {}, peopleLinks(app.technicalContacts)),
    el("td", {}, expiryCell(app)),
    el("td", {}, timeElement(app.orderedAt)),
    el("td", {}, timeElement(app.deliveredAt)));
}

// The regions of the apps the viewer may see, as options (the URL's choice kept).
async function fillRegions(select) {
  try {
    const { appRegions } = await gql("Regions");
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, "All"), ...appRegions.map((r) => el("option", { value: r }, r)));
    if (chosen && !appRegions.includes(chosen)) select.append(el("option", { value: chosen }, chosen));
    select.value = chosen;
  } catch (error) {
    if (!(error instanceof Unauthenticated)) select.title = `Regions could not be loaded: ${error.message}`;
  }
}

function renderRows(results, connection, params, go, emptyText) {
  const from = Math.max(1, Number(params.get("from")) || 1);
  const to = from + connection.nodes.length - 1;
  const summary = el("p", { class: "range", "data-testid": "apps-range" }, connection.nodes.length
    ? `${count(from)}–${count(to)} of ${plural(connection.totalCount, "app")}` : plural(connection.totalCount, "app"));
  summary.dataset.total = String(connection.totalCount);
  if (!connection.nodes.length) {
    results.replaceChildren(summary, emptyState(emptyText));
    return;
  }
  const table = el("table", { class: "apps", "data-testid": "apps-table" },
    el("caption", { class: "sr-only" }, "Apps"),
    el("thead", {}, el("tr", {}, sortHeader("NAME", params, go), el("th", { scope: "col" }, "Hosting"),
      el("th", { scope: "col" }, "Status"), el("th", { scope: "col" }, "Region"),
      el("th", { scope: "col" }, "Technical contact"), sortHeader("NEXT_LICENSE_EXPIRY", params, go),
      sortHeader("ORDERED_AT", params, go), sortHeader("DELIVERED_AT", params, go))),
    el("tbody", {}, ...connection.nodes.map(appRow)));
  const info = connection.pageInfo;
  const previous = el("button", { type: "button", class: "secondary", "data-testid": "page-previous",
    disabled: !info.hasPreviousPage || from <= 1 }, "← Previous");
  const next = el("button", { type: "button", class: "secondary", "data-testid": "page-next",
    disabled: !info.hasNextPage }, "Next →");
  previous.addEventListener("click", () => go({ before: info.startCursor, after: "", from: String(Math.max(1, from - PAGE_SIZE)) }, true));
  next.addEventListener("click", () => go({ after: info.endCursor, before: "", from: String(to + 1) }, true));
  results.replaceChildren(summary, el("div", { class: "scroll" }, table), el("nav", { class: "pager", "aria-label": "Pages" }, previous, next));
}

// Loads the rows for `params` into `results`; `fixed` filters (a person's role) always apply.
async function loadTable(results, params, go, fixed = {}, emptyText = "No apps match these filters.") {
  const seq = (results.seq = (results.seq || 0) + 1);  // only the latest answer is drawn
  results.setAttribute("aria-busy", "true");
  if (!results.querySelector("table")) results.replaceChildren(loadingState("Loading apps…"));
  else results.classList.add("stale");
  try {
    const data = await gql("Apps", tableVariables(params, fixed));
    if (seq !== results.seq) return;
    renderRows(results, data.apps, params, go, emptyText);
  } catch (error) {
    if (error instanceof Unauthenticated) throw error;
    if (seq !== results.seq) return;
    results.replaceChildren(errorState(error, () => loadTable(results, params, go, fixed, emptyText)));
  } finally {
    if (seq === results.seq) {
      results.classList.remove("stale");
      results.removeAttribute("aria-busy");
    }
  }
}
