// The overview's charts as inline SVG (no data fetching here).
"use strict";

const HOSTINGS = ["MENDIX_CLOUD", "ON_PREMISES"];
const STATUSES = ["ORDERED", "DELIVERED"];

// Gridline values for a bar chart of whole counts: 0, step, 2·step … up to a top >= max,
// step 1, 2 or 5 × 10^k, so every label is a whole number and sits where its value is.
function niceTicks(max, wanted = 4) {
  if (!(max > 0)) return [0, 1];
  const raw = Math.max(1, max / wanted);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let value = 0; value < max + step; value += step) {
    ticks.push(value);
    if (value >= max) break;
  }
  return ticks;
}

function renderSummary(rows) {
  const total = rows.reduce((sum, row) => sum + row.count, 0);
  $("summary-total").textContent = count(total);
  const width = 460, barHeight = 34, left = 110, gap = 22, top = 10;
  const sums = HOSTINGS.map((h) => rows.filter((r) => r.hosting === h).reduce((s, r) => s + r.count, 0));
  const max = Math.max(1, ...sums);
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${top + HOSTINGS.length * (barHeight + gap)}`,
    role: "img", "aria-label": `Apps by hosting type and status: ${HOSTINGS.map((h, i) => `${label(h)} ${sums[i]}`).join(", ")}`,
    "data-testid": "summary-svg",
  });
  HOSTINGS.forEach((hosting, index) => {
    const y = top + index * (barHeight + gap);
    chart.append(svg("text", { x: 0, y: y + barHeight / 2 + 4 }, label(hosting)));
    let x = left;
    for (const status of STATUSES) {
      const row = rows.find((r) => r.hosting === hosting && r.status === status);
      const value = row ? row.count : 0;
      const w = ((width - left - 60) * value) / max;
      const color = status === "DELIVERED"
        ? (hosting === "MENDIX_CLOUD" ? "var(--cloud)" : "var(--onprem)") : "var(--ordered)";
      const link = svg("a", { href: `#/apps?hosting=${hosting}&status=${status}`,
        "aria-label": `${label(hosting)}, ${label(status)}: ${value}` });
      const rect = svg("rect", { x, y, width: w, height: barHeight, rx: 3, fill: color,
        "data-hosting": hosting, "data-status": status, "data-count": value });
      rect.append(svg("title", {}, `${label(hosting)}, ${label(status)}: ${value}`));
      link.append(rect);
      if (w > 28) {
        link.append(svg("text", { x: x + w / 2, y: y + barHeight / 2 + 4, "text-anchor": "middle",
          class: "on-bar" }, count(value)));
      }
      chart.append(link);
      x += w;
    }
    chart.append(svg("text", { x: x + 6, y: y + barHeight / 2 + 4, class: "muted" }, count(sums[index])));
  });
  $("summary-chart").replaceChildren(chart, legend([
    ["Delivered (Mendix Cloud)", "var(--cloud)"], ["Delivered (On-Premises)", "var(--onprem)"],
    ["Ordered", "var(--ordered)"],
  ]));
}

function ownerRow(chart, load, index, max, width) {
  const rowHeight = 26, left = 200, y = index * rowHeight;
  const person = load.person || { name: "(hidden)", id: "" };
  const flag = person.status === "INACTIVE" ? " ⚠ inactive" : (person.hasMendixId === false ? " ⚠ no MendixID" : "");
  const group = svg("a", { href: person.id ? personHref(person.id) : "#/", class: "bar-row",
    "data-testid": "owner-row",
    "aria-label": `${person.name}${flag}: ${load.appCount} apps, ${load.mendixCloudCount} Mendix Cloud, ${load.onPremisesCount} On-Premises` });
  group.append(svg("text", { x: 0, y: y + 17 }, `${person.name}${flag}`));
  const scale = (width - left - 50) / max;
  const cloud = load.mendixCloudCount * scale, onprem = load.onPremisesCount * scale;
  group.append(svg("rect", { class: "bar", x: left, y: y + 4, width: cloud, height: 18, fill: "var(--cloud)" }));
  group.append(svg("rect", { class: "bar", x: left + cloud, y: y + 4, width: onprem, height: 18, fill: "var(--onprem)" }));
  group.append(svg("text", { x: left + cloud + onprem + 6, y: y + 17, class: "muted" }, String(load.appCount)));
  group.append(svg("title", {}, `${person.name} <${person.email || ""}>: ${load.mendixCloudCount} Mendix Cloud, ${load.onPremisesCount} On-Premises, ${load.orderedCount} not delivered`));
  chart.append(group);
}

function renderOwners(loads, totalCount) {
  $("owners-total").textContent = `(${plural(totalCount, "person", "people")})`;
  if (!loads.length) {
    $("owners-chart").replaceChildren(emptyState("No technical contacts on the apps you may see."));
    return;
  }
  const width = 900, max = Math.max(1, ...loads.map((o) => o.appCount));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${Math.max(26, loads.length * 26)}`,
    role: "group", "aria-label": "Technical contacts by number of apps", "data-testid": "owners-svg" });
  loads.forEach((load, index) => ownerRow(chart, load, index, max, width));
  $("owners-chart").replaceChildren(chart, legend([["Mendix Cloud", "var(--cloud)"], ["On-Premises", "var(--onprem)"]]));
}

function monthLabel(month) {
  const [year, number] = month.split("-").map(Number);
  return new Date(Date.UTC(year, number - 1, 1)).toLocaleString("en", { month: "short", timeZone: "UTC" })
    + (number === 1 ? ` ${year}` : "");
}

// Bars per month on gridlines from niceTicks: a bar of n reaches exactly the "n" line.
function renderTimeline(rows, target = $("timeline-chart")) {
  const width = 900, height = 190, left = 40, bottom = 36, top = 16;
  const ticks = niceTicks(Math.max(0, ...rows.map((row) => row.count)));
  const scaleTop = ticks[ticks.length - 1];
  const slot = (width - left) / Math.max(1, rows.length), plot = height - bottom - top;
  const yOf = (value) => top + plot * (1 - value / scaleTop);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Licenses expiring per month: ${rows.map((r) => `${monthLabel(r.month)} ${r.count}`).join(", ")}`,
    "data-testid": "timeline-svg" });
  for (const value of ticks) {
    const y = yOf(value);
    chart.append(svg("line", { x1: left, x2: width, y1: y, y2: y, stroke: "#e2e6ee", "data-value": value,
      "data-testid": "timeline-gridline" }));
    chart.append(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "muted",
      "data-testid": "timeline-label" }, count(value)));
  }
  rows.forEach((row, index) => {
    const y = yOf(row.count), x = left + index * slot + slot * 0.15;
    const rect = svg("rect", { x, y, width: slot * 0.7, height: top + plot - y,
      fill: index === 0 ? "var(--risk)" : "var(--warn)", "data-month": row.month, "data-count": row.count,
      "data-testid": "timeline-bar" });
    rect.append(svg("title", {}, `${monthLabel(row.month)}: ${plural(row.count, "license")} expire`));
    chart.append(rect);
    if (row.count) {
      chart.append(svg("text", { x: x + slot * 0.35, y: y - 4, "text-anchor": "middle" }, count(row.count)));
    }
    chart.append(svg("text", { x: x + slot * 0.35, y: height - bottom + 16, "text-anchor": "middle",
      class: "muted" }, monthLabel(row.month)));
  });
  target.replaceChildren(chart);
  return rows.reduce((sum, row) => sum + row.count, 0);
}
