// The overview (#/): summary, apps at risk (counts open the filtered table), the expiry
// timeline and the top technical contacts. Its filters (hosting, days) live in the URL.
"use strict";

const MONTHS = 12;
const RISK_LIST_SIZE = 5;
const OWNERS_PAGE = 10;
const RISK_PANELS = [
  { key: "inactive", risk: "TECHNICAL_CONTACT_INACTIVE", title: "Technical contact inactive" },
  { key: "noMendixId", risk: "TECHNICAL_CONTACT_WITHOUT_MENDIX_ID", title: "Technical contact without MendixID" },
  { key: "expiring", title: "License expiring" },
  { key: "noAlerts", risk: "NO_ALERT_EMAIL", title: "Mendix Cloud without alert email" },
  { key: "manageByOthers", risk: "PRODUCTION_MANAGE_PERMISSIONS_HELD_BY_OTHERS", title: "Manage permissions on production held by others" },
];
const OVERVIEW_DAYS = [30, 90, 365];
let owners = { loads: [], cursor: null, total: 0 };

function overviewState(params) {
  const hosting = HOSTINGS.includes(params.get("hosting")) ? params.get("hosting") : "";
  const days = OVERVIEW_DAYS.includes(Number(params.get("days"))) ? Number(params.get("days")) : 90;
  return { hosting, days };
}

function riskTitle(panel, days) {
  return panel.key === "expiring" ? `License expiring within ${days} days` : panel.title;
}

// The apps table with exactly this panel's filter, most urgent first.
function riskHref(panel, state) {
  const params = new URLSearchParams();
  if (panel.risk) params.append("risk", panel.risk);
  else params.set("expires", String(state.days));
  if (state.hosting) params.set("hosting", state.hosting);
  params.set("sort", "NEXT_LICENSE_EXPIRY");
  return `#/apps?${params}`;
}

function riskItem(app) {
  return el("li", { "data-testid": "risk-item" }, appLink(app), el("span", { class: "badge" }, label(app.hosting)),
    el("div", { class: "small" }, expiryCell(app)), el("div", { class: "small" }, peopleLinks(app.technicalContacts)));
}

function renderRisks(data, state, total) {
  const rows = RISK_PANELS.map((panel) => {
    const connection = data[panel.key];
    const share = total ? connection.totalCount / total : 0;
    const bar = el("span", { class: "meter" }, el("span", { class: "fill" }));
    bar.firstChild.style.width = `${connection.totalCount ? Math.max(1.5, share * 100) : 0}%`;
    return el("li", { class: "risk-row" },
      el("span", { class: "risk-title" }, riskTitle(panel, state.days)), bar,
      el("a", { href: riskHref(panel, state), "data-testid": `risk-count-${panel.key}`,
        "aria-label": `${plural(connection.totalCount, "app")}: ${riskTitle(panel, state.days)} (open the table)` },
      count(connection.totalCount)));
  });
  $("risk-chart").replaceChildren(el("ul", { class: "risk-rows" }, ...rows));
  $("risk-lists").replaceChildren(...RISK_PANELS.map((panel) => {
    const connection = data[panel.key];
    const items = connection.nodes.map(riskItem);
    const more = connection.totalCount > connection.nodes.length
      ? el("a", { href: riskHref(panel, state), class: "more", "data-testid": `risk-more-${panel.key}` },
        `Show all ${count(connection.totalCount)} →`) : null;
    return el("section", { class: "risk-list", "data-testid": `risk-list-${panel.key}` },
      el("h3", {}, riskTitle(panel, state.days), " ", el("span", { class: "badge bad" }, count(connection.totalCount))),
      items.length ? el("ol", {}, ...items) : emptyState("None: nothing to do here."), more);
  }));
}

function renderOwnersMore() {
  renderOwners(owners.loads, owners.total);
  $("owners-more").hidden = !owners.cursor;
}

async function loadOwners(append) {
  const data = await gql("TopContacts", { first: OWNERS_PAGE, after: append ? owners.cursor : null });
  const connection = data.topTechnicalContacts;
  owners = {
    loads: append ? owners.loads.concat(connection.nodes) : connection.nodes,
    cursor: connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null,
    total: connection.totalCount,
  };
  renderOwnersMore();
}

function setPanels(node) {
  for (const id of ["summary-chart", "risk-chart", "risk-lists", "timeline-chart"]) {
    $(id).replaceChildren(typeof node === "function" ? node() : node.cloneNode(true));
  }
}

async function showOverview(params) {
  const state = overviewState(params);
  $("risk-hosting").value = state.hosting;
  $("risk-days").value = String(state.days);
  const overview = $("overview");
  const seq = (overview.seq = (overview.seq || 0) + 1);
  if (!overview.dataset.loaded) setPanels(() => loadingState());
  overview.setAttribute("aria-busy", "true");
  try {
    const [data] = await Promise.all([
      gql("Overview", { hosting: state.hosting ? [state.hosting] : null, days: state.days, months: MONTHS,
        first: RISK_LIST_SIZE, order: { field: "NEXT_LICENSE_EXPIRY", direction: "ASC" } }),
      overview.dataset.loaded ? null : loadOwners(false),
    ]);
    if (seq !== overview.seq) return;
    const total = data.ownershipSummary.reduce((sum, row) => sum + row.count, 0);
    renderSummary(data.ownershipSummary);
    renderRisks(data, state, total);
    const expiring = renderTimeline(data.licenseExpiryTimeline);
    $("timeline-total").textContent = `(${plural(expiring, "license")} in ${data.licenseExpiryTimeline.length} months)`;
    $("timeline-total").dataset.count = String(expiring);
    overview.dataset.loaded = "true";
  } catch (error) {
    if (error instanceof Unauthenticated) throw error;
    if (seq !== overview.seq) return;
    setPanels(() => errorState(error, () => route()));
  } finally {
    if (seq === overview.seq) overview.removeAttribute("aria-busy");
  }
}

function clearOverview() {
  owners = { loads: [], cursor: null, total: 0 };
  delete $("overview").dataset.loaded;
  for (const id of ["summary-chart", "risk-chart", "risk-lists", "timeline-chart", "owners-chart", "owners-total",
    "summary-total", "timeline-total"]) $(id).replaceChildren();
  $("owners-more").hidden = true;
}
