// The ownership dashboard, part 3 of 3: queries, loading, detail views, sign in/out.
"use strict";

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
