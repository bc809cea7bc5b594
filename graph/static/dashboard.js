// The ownership dashboard: plain JS, data from the public GraphQL API, charts as inline SVG.
"use strict";

const TOKEN_KEY = "ownership.token";
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const HOSTING = { MENDIX_CLOUD: "Mendix Cloud", ON_PREMISES: "On-Premises" };
const STATUS = { ORDERED: "Ordered", DELIVERED: "Delivered" };
const RISKS = [
  { key: "inactive", title: "Technical contact inactive", field: "appsWithInactiveTechnicalContact" },
  {
    key: "noMendixId",
    title: "Technical contact without MendixID",
    field: "appsWithTechnicalContactWithoutMendixId",
  },
  { key: "expiring", title: "License expiring soon", field: "appsWithLicensesExpiring", args: "days: $days, " },
  { key: "noAlerts", title: "Mendix Cloud without alert email", field: "mendixCloudAppsWithoutAlerts" },
  {
    key: "manageByOthers",
    title: "Manage permissions on production held by others",
    field: "appsWithProductionManagePermissionsGrantedToOthers",
  },
];
const MONTHS = 12;
const PAGE = 10;
let ownersCursor = null;

class Unauthenticated extends Error {}

async function gql(query, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json",
      Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}`,
    },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status === 401) throw new Unauthenticated("This token is not valid");
  const body = await response.json();
  if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
  return body.data;
}

// --- small DOM and SVG helpers (text always via textContent: no HTML from data) ---------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}
function legend(items) {
  return el("div", { class: "legend" }, ...items.map(([label, color]) => {
    const swatch = el("i");
    swatch.style.background = color;
    return el("span", {}, swatch, label);
  }));
}
function appLink(app) {
  return el("a", { href: `#/app/${encodeURIComponent(app.id)}`, "data-testid": "app-link" }, app.name);
}

// --- panels ----------------------------------------------------------------------------------
const RISK_FIELDS = RISKS.map((risk) => `${risk.key}: ${risk.field}(${risk.args || ""}first: $first, filter: $filter) {
    totalCount nodes { id name subdomain hosting status technicalContacts { name } licenses { expiresAt } }
  }`).join("\n");
const DASHBOARD = `
query Dashboard($first: Int!, $filter: AppsFilter, $days: Int!, $months: Int!) {
  licenseExpiryTimeline(months: $months) { month count }
  viewer { name isSupport }
  ownershipSummary { hosting status count }
  topTechnicalContacts(first: $first) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { appCount mendixCloudCount onPremisesCount orderedCount person { id name email status hasMendixId } }
  }
${RISK_FIELDS}
}`;

const RISK_ONLY = `
query Risks($first: Int!, $filter: AppsFilter, $days: Int!) {
${RISK_FIELDS}
}`;

const OWNERS_MORE = `
query Owners($first: Int!, $after: String) {
  topTechnicalContacts(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { appCount mendixCloudCount onPremisesCount orderedCount person { id name email status hasMendixId } }
  }
}`;

function renderSummary(rows) {
  const total = rows.reduce((sum, row) => sum + row.count, 0);
  $("summary-total").textContent = total.toLocaleString("en");
  const width = 460, barHeight = 34, left = 110, gap = 22, top = 10;
  const hostings = Object.keys(HOSTING);
  const max = Math.max(1, ...hostings.map((h) => rows.filter((r) => r.hosting === h)
    .reduce((sum, r) => sum + r.count, 0)));
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${top + hostings.length * (barHeight + gap)}`,
    role: "img", "aria-label": "Apps by hosting type and status", "data-testid": "summary-svg",
  });
  hostings.forEach((hosting, index) => {
    const y = top + index * (barHeight + gap);
    chart.append(svg("text", { x: 0, y: y + barHeight / 2 + 4 }, HOSTING[hosting]));
    let x = left;
    for (const status of Object.keys(STATUS)) {
      const row = rows.find((r) => r.hosting === hosting && r.status === status);
      const count = row ? row.count : 0;
      const w = ((width - left - 60) * count) / max;
      const color = status === "DELIVERED"
        ? (hosting === "MENDIX_CLOUD" ? "var(--cloud)" : "var(--onprem)") : "var(--ordered)";
      const rect = svg("rect", { x, y, width: w, height: barHeight, rx: 3, fill: color,
        "data-hosting": hosting, "data-status": status, "data-count": count });
      rect.append(svg("title", {}, `${HOSTING[hosting]}, ${STATUS[status]}: ${count}`));
      chart.append(rect);
      if (w > 28) {
        chart.append(svg("text", { x: x + w / 2, y: y + barHeight / 2 + 4, "text-anchor": "middle",
          fill: "#fff", style: "fill:#fff" }, String(count)));
      }
      x += w;
    }
    const sum = rows.filter((r) => r.hosting === hosting).reduce((s, r) => s + r.count, 0);
    chart.append(svg("text", { x: x + 6, y: y + barHeight / 2 + 4, class: "muted" }, String(sum)));
  });
  $("summary-chart").replaceChildren(chart, legend([
    ["Delivered (Cloud)", "var(--cloud)"], ["Delivered (On-Premises)", "var(--onprem)"],
    ["Ordered", "var(--ordered)"],
  ]));
}

function ownerRow(chart, load, index, max, width) {
  const rowHeight = 26, left = 190, y = index * rowHeight;
  const group = svg("g", { class: "bar-row", "data-testid": "owner-row", tabindex: 0 });
  const person = load.person || { name: "(unknown)", id: "" };
  const flag = person.status === "INACTIVE" ? " ⚠ inactive" : (!person.hasMendixId ? " ⚠ no MendixID" : "");
  group.append(svg("text", { x: 0, y: y + 17 }, `${person.name}${flag}`));
  const scale = (width - left - 50) / max;
  const cloud = load.mendixCloudCount * scale, onprem = load.onPremisesCount * scale;
  group.append(svg("rect", { class: "bar", x: left, y: y + 4, width: cloud, height: 18, fill: "var(--cloud)" }));
  group.append(svg("rect", { class: "bar", x: left + cloud, y: y + 4, width: onprem, height: 18, fill: "var(--onprem)" }));
  group.append(svg("text", { x: left + cloud + onprem + 6, y: y + 17, class: "muted" }, String(load.appCount)));
  group.append(svg("title", {}, `${person.name} <${person.email}>: ${load.mendixCloudCount} Mendix Cloud, ${load.onPremisesCount} On-Premises, ${load.orderedCount} not delivered`));
  group.addEventListener("click", () => { location.hash = `#/person/${encodeURIComponent(person.id)}`; });
  chart.append(group);
}

let owners = [];
function renderOwners(connection, append) {
  owners = append ? owners.concat(connection.nodes) : connection.nodes;
  ownersCursor = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
  $("owners-total").textContent = `(${connection.totalCount.toLocaleString("en")} people)`;
  const width = 900, max = Math.max(1, ...owners.map((o) => o.appCount));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${Math.max(26, owners.length * 26)}`,
    role: "img", "aria-label": "Technical contacts by number of apps", "data-testid": "owners-svg" });
  owners.forEach((load, index) => ownerRow(chart, load, index, max, width));
  $("owners-chart").replaceChildren(chart, legend([["Mendix Cloud", "var(--cloud)"], ["On-Premises", "var(--onprem)"]]));
  $("owners-more").hidden = !ownersCursor;
}

function renderRisks(data, total) {
  const width = 460, rowHeight = 40;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${RISKS.length * rowHeight}`, role: "img",
    "aria-label": "Apps at risk", "data-testid": "risk-svg" });
  const lists = [];
  RISKS.forEach((risk, index) => {
    const connection = data[risk.key];
    const y = index * rowHeight;
    const share = total ? connection.totalCount / total : 0;
    chart.append(svg("text", { x: 0, y: y + 14 }, riskTitle(risk)));
    chart.append(svg("rect", { x: 0, y: y + 20, width: width - 70, height: 12, rx: 6, fill: "#eef1f6" }));
    chart.append(svg("rect", { x: 0, y: y + 20, width: Math.max(connection.totalCount ? 3 : 0, (width - 70) * share),
      height: 12, rx: 6, fill: "var(--risk)", "data-risk": risk.key, "data-count": connection.totalCount }));
    chart.append(svg("text", { x: width - 62, y: y + 31, "data-testid": `risk-count-${risk.key}` },
      connection.totalCount.toLocaleString("en")));
    const items = connection.nodes.map((app) => el("li", {}, appLink(app),
      el("span", { class: "badge" }, HOSTING[app.hosting]),
      el("span", { class: "badge bad" }, risk.key === "expiring"
        ? `expires ${nextExpiry(app)}` : app.technicalContacts.map((c) => c.name).join(", "))));
    if (!items.length) items.push(el("li", {}, "None"));
    const more = connection.totalCount > connection.nodes.length
      ? el("p", { class: "status" }, `… and ${connection.totalCount - connection.nodes.length} more`) : "";
    lists.push(el("div", { "data-testid": `risk-list-${risk.key}` }, el("h3", {}, riskTitle(risk)), el("ul", {}, ...items), more));
  });
  $("risk-chart").replaceChildren(chart);
  $("risk-lists").replaceChildren(...lists);
}

function nextExpiry(app) {
  const now = new Date().toISOString();
  const dates = app.licenses.map((l) => l.expiresAt).filter((d) => d >= now).sort();
  return (dates[0] || "").slice(0, 10);
}

function monthLabel(month) {
  const [year, number] = month.split("-").map(Number);
  return new Date(Date.UTC(year, number - 1, 1)).toLocaleString("en", { month: "short", timeZone: "UTC" })
    + (number === 1 ? ` ${year}` : "");
}

function renderTimeline(rows) {
  const width = 900, height = 190, left = 36, bottom = 36, top = 14;
  const max = Math.max(1, ...rows.map((row) => row.count));
  const slot = (width - left) / Math.max(1, rows.length), plot = height - bottom - top;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Licenses expiring per month", "data-testid": "timeline-svg" });
  for (const fraction of [0, 0.5, 1]) {
    const y = top + plot * (1 - fraction);
    chart.append(svg("line", { x1: left, x2: width, y1: y, y2: y, stroke: "#e2e6ee" }));
    chart.append(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "muted" },
      String(Math.round(max * fraction))));
  }
  rows.forEach((row, index) => {
    const h = (plot * row.count) / max, x = left + index * slot + slot * 0.15;
    const rect = svg("rect", { x, y: top + plot - h, width: slot * 0.7, height: h, rx: 3,
      fill: index === 0 ? "var(--risk)" : "var(--warn)", "data-month": row.month, "data-count": row.count,
      "data-testid": "timeline-bar" });
    rect.append(svg("title", {}, `${row.month}: ${row.count} licenses expire`));
    chart.append(rect);
    if (row.count) {
      chart.append(svg("text", { x: x + slot * 0.35, y: top + plot - h - 4, "text-anchor": "middle" },
        String(row.count)));
    }
    chart.append(svg("text", { x: x + slot * 0.35, y: height - bottom + 16, "text-anchor": "middle",
      class: "muted" }, monthLabel(row.month)));
  });
  const total = rows.reduce((sum, row) => sum + row.count, 0);
  $("timeline-total").textContent = `(${total.toLocaleString("en")} licenses in ${rows.length} months)`;
  $("timeline-total").dataset.count = String(total);
  $("timeline-chart").replaceChildren(chart);
}

function riskTitle(risk) {
  return risk.key === "expiring" ? `License expiring within ${$("risk-days").value} days` : risk.title;
}

function riskVariables() {
  return { first: PAGE, filter: riskFilter(), days: Number($("risk-days").value) };
}

function riskFilter() {
  const hosting = $("risk-hosting").value;
  return hosting ? { hosting } : null;
}

let summaryTotal = 0;
async function loadDashboard() {
  $("status").textContent = "Loading…";
  const data = await gql(DASHBOARD, { ...riskVariables(), months: MONTHS });
  $("viewer").textContent = `${data.viewer.name}${data.viewer.isSupport ? " · Mendix Support (all apps)" : " · your apps"}`;
  summaryTotal = data.ownershipSummary.reduce((sum, row) => sum + row.count, 0);
  renderSummary(data.ownershipSummary);
  renderOwners(data.topTechnicalContacts, false);
  renderRisks(data, summaryTotal);
  renderTimeline(data.licenseExpiryTimeline);
  $("status").textContent = "";
  document.body.dataset.loaded = "true";
}

// --- details ---------------------------------------------------------------------------------
const APP_DETAIL = `
query App($id: ID!) {
  app(id: $id) {
    id name subdomain hosting status version orderedAt deliveredAt
    technicalContacts { name email status hasMendixId }
    teamMembers { name email }
    accountExecutive { name email }
  }
}`;

const PERSON_DETAIL = `
query Person($id: ID!) {
  technicalContactLoad(personId: $id) { appCount mendixCloudCount onPremisesCount orderedCount }
  node(id: $id) {
    ... on Person {
      name email status mendixId
      technicalContactOf(first: 20) { totalCount nodes { id name hosting status } }
    }
  }
}`;

function people(list) {
  return list.map((p) => `${p.name} <${p.email}>${p.status === "INACTIVE" ? " (inactive)" : ""}${p.hasMendixId === false ? " (no MendixID)" : ""}`).join(", ") || "–";
}

function definition(pairs) {
  return el("dl", {}, ...pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value ?? "–")]));
}

function back() {
  return el("a", { href: "#/" }, "← Back to the dashboard");
}

async function showApp(id) {
  const { app } = await gql(APP_DETAIL, { id });
  const box = $("detail");
  if (!app) {
    box.replaceChildren(back(), el("p", {}, "No app with this ID that you may see."));
  } else {
    box.replaceChildren(back(), el("h2", { "data-testid": "app-detail-name" }, app.name), definition([
      ["Subdomain", app.subdomain], ["Hosting", HOSTING[app.hosting]], ["Status", STATUS[app.status]],
      ["Technical contacts", people(app.technicalContacts)], ["Team", people(app.teamMembers)],
      ["Account executive", app.accountExecutive ? people([app.accountExecutive]) : "–"],
      ["Ordered", app.orderedAt], ["Delivered", app.deliveredAt], ["Version", String(app.version)],
    ]));
  }
  box.hidden = false;
}

async function showPerson(id) {
  const data = await gql(PERSON_DETAIL, { id });
  const box = $("detail");
  const person = data.node, load = data.technicalContactLoad;
  if (!person || !load) {
    box.replaceChildren(back(), el("p", {}, "No person with this ID that you may see."));
  } else {
    const apps = person.technicalContactOf.nodes.map((app) => el("li", {}, appLink(app),
      el("span", { class: "badge" }, HOSTING[app.hosting]), el("span", { class: "badge" }, STATUS[app.status])));
    box.replaceChildren(back(), el("h2", {}, person.name), definition([
      ["Email", person.email], ["Status", person.status], ["MendixID", person.mendixId],
      ["Load", `${load.appCount} apps: ${load.mendixCloudCount} Mendix Cloud, ${load.onPremisesCount} On-Premises, ${load.orderedCount} not delivered`],
    ]), el("ul", {}, ...apps));
  }
  box.hidden = false;
}

async function route() {
  const [, kind, id] = location.hash.match(/^#\/(app|person)\/(.+)$/) || [];
  $("detail").hidden = true;
  if (kind === "app") await showApp(decodeURIComponent(id));
  if (kind === "person") await showPerson(decodeURIComponent(id));
  if (kind) window.scrollTo(0, 0);
}

// --- sign in / out ---------------------------------------------------------------------------
function showLogin(message = "") {
  $("login").hidden = false;
  $("dashboard").hidden = true;
  $("detail").hidden = true;
  $("sign-out").hidden = true;
  $("viewer").textContent = "";
  $("login-error").textContent = message;
}

async function start() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return showLogin();
  $("login").hidden = true;
  $("dashboard").hidden = false;
  $("sign-out").hidden = false;
  try {
    await loadDashboard();
    await route();
  } catch (error) {
    if (error instanceof Unauthenticated) {
      sessionStorage.removeItem(TOKEN_KEY);
      return showLogin(error.message);
    }
    $("status").textContent = `Could not load: ${error.message}`;
  }
}

function guard(action) {
  return () => action().catch((error) => {
    if (error instanceof Unauthenticated) { sessionStorage.removeItem(TOKEN_KEY); showLogin(error.message); }
    else $("status").textContent = `Could not load: ${error.message}`;
  });
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = "";
  start();
});
$("sign-out").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); showLogin(); });
const reloadRisks = guard(async () => {
  renderRisks(await gql(RISK_ONLY, riskVariables()), summaryTotal);
});
$("risk-hosting").addEventListener("change", reloadRisks);
$("risk-days").addEventListener("change", reloadRisks);
$("owners-more").addEventListener("click", guard(async () => {
  const data = await gql(OWNERS_MORE, { first: PAGE, after: ownersCursor });
  renderOwners(data.topTechnicalContacts, true);
}));
window.addEventListener("hashchange", guard(route));
start();
