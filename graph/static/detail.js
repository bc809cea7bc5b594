// The app view (#/app/<id>) and the person view (#/person/<id>?role=…, with their apps table).
"use strict";

const RECENT = 10;
const ROLES = {
  technicalContact: { title: "Technical contact of", field: "technicalContactOf", filter: "technicalContactId" },
  teamMember: { title: "Team member of", field: "teamMemberOf", filter: "teamMemberId" },
  accountExecutive: { title: "Account executive of", field: "accountExecutiveOf", filter: "accountExecutiveId" },
};

function definition(pairs) {
  return el("dl", {}, ...pairs.flatMap(([term, value]) => [el("dt", {}, term),
    el("dd", {}, value === null || value === undefined || value === "" ? el("span", { class: "muted" }, "—") : value)]));
}
function card(title, testid, ...body) {
  return el("section", { class: "card", "data-testid": testid }, el("h2", {}, title), ...body);
}
function simpleTable(caption, headers, rows, empty) {
  if (!rows.length) return emptyState(empty);
  return el("div", { class: "scroll" }, el("table", { class: "apps" }, el("caption", { class: "sr-only" }, caption),
    el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c)))))));
}
function statusBadge(value, bad = ["CRITICAL", "INACTIVE", "STOPPED", "FAILED"], warn = ["WARNING", "ORDERED", "NOT_DEPLOYED", "NEW"]) {
  const tone = bad.includes(value) ? "bad" : warn.includes(value) ? "warn" : "ok";
  return el("span", { class: `badge ${tone}` }, label(value));
}
function more(connection, what) {
  return connection.totalCount > connection.nodes.length
    ? el("p", { class: "muted small" }, `The ${connection.nodes.length} most recent of ${plural(connection.totalCount, what)}.`) : null;
}

function licensesCard(app) {
  const rows = app.licenses.slice().sort((a, b) => parseTime(a.expiresAt) - parseTime(b.expiresAt)).map((l) => [
    l.licenseId, l.plan, `${count(l.namedUsers)} named, ${count(l.concurrentUsers)} concurrent`,
    timeElement(l.startsAt), expiryCell({ licenses: [l] }), label(l.renewedBy)]);
  return card("Licenses", "app-licenses",
    simpleTable("Licenses", ["License", "Plan", "Users", "Starts", "Expires", "Renewed by"], rows, "No licenses."));
}

function environmentsCard(app) {
  if (app.hosting !== "MENDIX_CLOUD") {
    return card("Environments", "app-environments", emptyState("On-Premises apps have no Mendix Cloud environments."));
  }
  const rows = app.environments.map((env) => {
    const raised = env.alertStatus.filter((s) => s.status !== "NORMAL");
    return [
      el("span", {}, env.name, env.production ? el("span", { class: "badge" }, "Production") : null),
      statusBadge(env.state),
      env.alertSettings.emailEnabled ? "On" : el("span", { class: "badge bad" }, "Off"),
      raised.length ? el("span", {}, ...raised.map((s) => el("span", { class: `badge ${s.status === "CRITICAL" ? "bad" : "warn"}` },
        `${label(s.category)}: ${label(s.status)}`))) : el("span", { class: "badge ok" }, "All normal"),
      peopleLinks(env.alertSettings.recipients),
      timeElement(env.createdAt),
    ];
  });
  return card("Environments", "app-environments", simpleTable("Environments",
    ["Environment", "State", "Alert email", "Alert status", "Extra recipients", "Created"], rows, "No environments yet."));
}

function alertsCard(app) {
  const alerts = app.alerts.nodes.slice().reverse();  // newest first
  const rows = alerts.map((a) => [timeElement(a.at, true), a.environmentName, label(a.category),
    el("span", {}, statusBadge(a.previousStatus, ["CRITICAL"], ["WARNING"]), " → ", statusBadge(a.status, ["CRITICAL"], ["WARNING"])),
    `${a.value.toLocaleString("en")} ${a.unit === "PERCENT" ? "%" : a.unit.toLowerCase()}`]);
  return card("Recent alerts", "app-alerts", simpleTable("Recent alerts",
    ["When", "Environment", "Category", "Change", "Value"], rows, "No alerts raised."), more(app.alerts, "alert"));
}

// Before/after values: person IDs as links (names from one Names query), times as dates.
function auditValue(value, names) {
  if (Array.isArray(value)) {
    if (!value.length) return el("span", { class: "muted" }, "none");
    const out = el("span", {});
    value.forEach((item, index) => { if (index) out.append(", "); out.append(auditValue(item, names)); });
    return out;
  }
  if (value === null || value === undefined) return el("span", { class: "muted" }, "none");
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object") return el("span", {}, ...Object.entries(value).map(([k, v], i) => el("span", {}, i ? "; " : "", `${fieldLabel(k)}: `, auditValue(v, names))));
  if (typeof value === "string" && names.has(value)) {
    const known = names.get(value);
    return known.person ? el("a", { href: personHref(value), "data-testid": "person-link" }, known.person) : known.text;
  }
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value)) return formatDate(value);
  if (typeof value === "string" && /^[A-Z][A-Z_]+$/.test(value)) return label(value);
  return String(value);
}
// snake_case keys of before/after for people: member_ids -> "Team members"
const FIELD_LABELS = { member_ids: "Team members", license_id: "License", support_request_id: "Support request" };
function fieldLabel(key) {
  return FIELD_LABELS[key] || label(key.replace(/_ids$/, "s").replace(/_id$/, ""));
}
function auditChanges(event, names) {
  const before = event.before || {}, after = event.after || {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return el("ul", { class: "changes" }, ...keys.map((key) => el("li", {}, `${fieldLabel(key)}: `,
    key in before ? auditValue(before[key], names) : "", key in before && key in after ? " → " : "",
    key in after ? auditValue(after[key], names) : "")));
}
function personIds(value, out = new Set()) {
  if (Array.isArray(value)) value.forEach((v) => personIds(v, out));
  else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (/(_id|_ids|_by)$/.test(key) && key !== "license_id") {
        [item].flat().filter((v) => typeof v === "string" && /^[A-Za-z0-9+/]{16,}={0,2}$/.test(v)).forEach((v) => out.add(v));
      }
      else personIds(item, out);
    }
  }
  return out;
}
async function personNames(events) {
  const ids = [...personIds(events.map((e) => [e.before, e.after]))].slice(0, 100);
  // an ID not resolved (someone on another app, or the lookup failed) is never shown raw
  const names = new Map(ids.map((id) => [id, { text: "someone you may not see" }]));
  if (!ids.length) return names;
  try {
    const data = await gql("Names", { ids });
    for (const n of data.nodes) {
      if (n && n.name) names.set(n.id, { person: n.name });
      else if (n && n.subject) names.set(n.id, { text: `“${n.subject}”` });
    }
  } catch (error) {
    if (error instanceof Unauthenticated) throw error;
  }
  return names;
}
function auditCard(app, names) {
  const rows = app.auditTrail.nodes.map((e) => [timeElement(e.at, true), label(e.action),
    e.actor ? personLink(e.actor) : el("span", { class: "muted" }, "System"), auditChanges(e, names)]);
  return card("Audit trail", "app-audit", simpleTable("Audit trail", ["When", "What", "Who", "Changes"], rows,
    "No changes recorded."), more(app.auditTrail, "change"));
}

function supportCard(app) {
  const rows = app.supportRequests.nodes.map((r) => [r.subject, label(r.kind), statusBadge(r.priority, ["CRITICAL", "HIGH"], ["MEDIUM"]),
    statusBadge(r.status, ["REJECTED"], ["NEW", "TRIAGED", "APPROVING"]), personLink(r.requester), timeElement(r.createdAt)]);
  return card("Support requests", "app-support", simpleTable("Support requests",
    ["Subject", "Kind", "Priority", "Status", "Requester", "Submitted"], rows, "No support requests."),
  more(app.supportRequests, "request"));
}

async function showApp(id) {
  const box = $("app-view");
  box.replaceChildren(loadingState("Loading the app…"));
  let app;
  try {
    app = (await gql("App", { id, recent: RECENT })).app;
  } catch (error) {
    if (error instanceof Unauthenticated) throw error;
    box.replaceChildren(backLink(), errorState(error, () => showApp(id)));
    return;
  }
  if (!app) {
    box.replaceChildren(backLink(), emptyState("No app with this ID that you may see."));
    return;
  }
  const names = await personNames(app.auditTrail.nodes);
  document.title = `${app.name} · App ownership`;
  box.replaceChildren(backLink(),
    el("h2", { class: "title", tabindex: "-1", "data-testid": "app-detail-name" }, app.name),
    el("div", { class: "detail-grid" },
      card("About", "app-about", definition([
        ["Subdomain", app.subdomain], ["Hosting", label(app.hosting)], ["Status", statusBadge(app.status)],
        ["Region", app.region], ["Project", app.projectId], ["Ordered", timeElement(app.orderedAt)],
        ["Delivered", app.deliveredAt ? timeElement(app.deliveredAt) : "not yet"], ["Version", String(app.version)]])),
      card("People", "app-people", definition([
        ["Technical contacts", peopleLinks(app.technicalContacts)], ["Account executive", personLink(app.accountExecutive)],
        ["Team", peopleLinks(app.teamMembers)]]))),
    licensesCard(app), environmentsCard(app), alertsCard(app), supportCard(app), auditCard(app, names));
}

function backLink() {
  return el("a", { href: "#/", class: "back" }, "← Overview");
}

// --- the person view: who they are, and all their apps by role, in the apps table ------------
async function showPerson(id, params, go) {
  const box = $("person-view");
  const role = ROLES[params.get("role")] ? params.get("role") : "technicalContact";
  box.go = go;  // the latest URL's; the controls built once call through it
  if (box.dataset.person !== id) {
    box.replaceChildren(loadingState("Loading the person…"));
    let data;
    try {
      data = await gql("Person", { id });
    } catch (error) {
      if (error instanceof Unauthenticated) throw error;
      box.replaceChildren(backLink(), errorState(error, () => showPerson(id, params, go)));
      return;
    }
    const person = data.node;
    if (!person || !person.email) {
      box.replaceChildren(backLink(), emptyState("No person with this ID that you may see."));
      return;
    }
    document.title = `${person.name} · App ownership`;
    const load = data.technicalContactLoad;
    const tabs = el("nav", { class: "tabs", "aria-label": "Apps by role" }, ...Object.entries(ROLES).map(([key, r]) =>
      el("a", { href: "#", "data-role": key, "data-testid": `role-${key}` }, `${r.title} (${count(person[r.field].totalCount)})`)));
    const table = el("div", { class: "card", "data-testid": "person-apps" });
    box.replaceChildren(backLink(), el("h2", { class: "title", tabindex: "-1", "data-testid": "person-name" }, person.name),
      card("About", "person-about", definition([
        ["Email", el("a", { href: `mailto:${person.email}` }, person.email)], ["Status", statusBadge(person.status)],
        ["MendixID", person.mendixId || el("span", { class: "badge bad" }, "none yet")],
        ["Role", person.isSupport ? "Mendix Support" : "Customer"],
        ["Load", load ? `${plural(load.appCount, "app")} as technical contact: ${count(load.mendixCloudCount)} Mendix Cloud, ${count(load.onPremisesCount)} On-Premises, ${count(load.orderedCount)} not delivered` : null],
      ])), tabs, table);
    box.dataset.person = id;
    box.table = buildTable(table, params, (changes, paging) => box.go(changes, paging));
  }
  for (const tab of box.querySelectorAll(".tabs a")) {
    tab.href = hrefWith(`#/person/${encodeURIComponent(id)}`, params, { role: tab.dataset.role });
    if (tab.dataset.role === role) tab.setAttribute("aria-current", "page"); else tab.removeAttribute("aria-current");
  }
  syncControls(box.table.form, params);
  await loadTable(box.table.results, params, go, { [ROLES[role].filter]: id },
    "No apps match (in this role and with these filters).");
}
