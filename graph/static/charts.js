// The ownership dashboard, part 2 of 3: the panels drawn as inline SVG (no data fetching).
"use strict";

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

