// The ownership dashboard: the GraphQL client, DOM/SVG helpers and formatting for people.
// Classic scripts loaded in order (common.js, queries.js, charts.js, table.js, overview.js,
// detail.js, main.js) share one global scope; no third-party code. Queries: graph/operations/.
"use strict";

const TOKEN_KEY = "ownership.token";
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

class Unauthenticated extends Error {}

// Sends one operation of graph/operations/ (queries.js) with its variables; returns `data`.
async function gql(name, variables = {}, useText = false) {
  const token = sessionStorage.getItem(TOKEN_KEY) || "";
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
        Authorization: `Bearer ${token}`,
      },
      body: JSON.stringify(await requestBody(name, variables, useText)),
    });
  } catch (error) {
    throw new Error(error instanceof TypeError ? "The server could not be reached" : error.message);
  }
  // signed out (or in as someone else) meanwhile: this answer belongs to nobody on the page
  // now; it never settles, so nothing of it is drawn
  if ((sessionStorage.getItem(TOKEN_KEY) || "") !== token) return new Promise(() => {});
  if (response.status === 401) throw new Unauthenticated("This token is not valid (or has expired)");
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`The server answered ${response.status} without a GraphQL result`);
  }
  const errors = body.errors || [];
  const codes = errors.map((e) => e.extensions && e.extensions.code);
  if (!useText && codes.includes("PERSISTED_DOCUMENT_NOT_FOUND")) return gql(name, variables, true);
  if (codes.includes("UNAUTHENTICATED")) {
    throw new Unauthenticated(errors[0].message);
  }
  if (errors.length) throw new Error(errors[0].message);
  if (!body.data) throw new Error(`The server answered ${response.status} without data`);
  return body.data;
}

// --- DOM and SVG helpers (text always via textContent: no HTML from data) --------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
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
function loadingState(label = "Loading…") {
  return el("p", { class: "state loading", role: "status", "data-state": "loading" }, label);
}
function emptyState(text) {
  return el("p", { class: "state empty", "data-state": "empty" }, text);
}
function errorState(error, retry) {
  const box = el("div", { class: "state error", role: "alert", "data-state": "error" },
    el("span", {}, `Could not load: ${error.message}`));
  if (retry) {
    const button = el("button", { type: "button", class: "secondary" }, "Try again");
    button.addEventListener("click", retry);
    box.append(" ", button);
  }
  return box;
}

// --- links into the views (hash routes; see main.js) -----------------------------------------
function appHref(id) { return `#/app/${encodeURIComponent(id)}`; }
function personHref(id) { return `#/person/${encodeURIComponent(id)}`; }
function appLink(app) {
  return el("a", { href: appHref(app.id), "data-testid": "app-link" }, app.name);
}
function personLink(person) {
  if (!person) return el("span", { class: "muted" }, "—");
  const flags = [];
  if (person.status === "INACTIVE") flags.push(el("span", { class: "badge bad" }, "inactive"));
  if (person.hasMendixId === false) flags.push(el("span", { class: "badge bad" }, "no MendixID"));
  return el("span", { class: "person" },
    el("a", { href: personHref(person.id), "data-testid": "person-link" }, person.name), ...flags);
}
function peopleLinks(list) {
  if (!list || !list.length) return el("span", { class: "muted" }, "—");
  const out = el("span", {});
  list.forEach((person, index) => {
    if (index) out.append(", ");
    out.append(personLink(person));
  });
  return out;
}

// --- formatting for people -------------------------------------------------------------------
const LABELS = {
  MENDIX_CLOUD: "Mendix Cloud", ON_PREMISES: "On-Premises", APP_CPU: "App CPU",
  APP_DISK: "App disk", APP_MEMORY: "App memory", DATABASE_CPU: "Database CPU",
  DATABASE_FREE_SPACE: "Database free space", APP_NOT_RESPONDING: "App not responding",
  API_RIGHTS: "API rights", MENDIX_ID_REGISTERED: "MendixID registered",
  NOT_DEPLOYED: "Not deployed", TECHNICAL_CONTACT_WITHOUT_MENDIX_ID: "Technical contact without MendixID",
  NO_ALERT_EMAIL: "Mendix Cloud without alert email", LICENSE_EXPIRING: "License expiring",
  PRODUCTION_MANAGE_PERMISSIONS_HELD_BY_OTHERS: "Manage permissions on production held by others",
};
// An enum value as words: MENDIX_CLOUD -> "Mendix Cloud", TEAM_MEMBER_ADDED -> "Team member added".
function label(value) {
  if (value === null || value === undefined) return "—";
  if (LABELS[value]) return LABELS[value];
  const words = String(value).toLowerCase().split("_").join(" ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
const DATE = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
const DATE_TIME = new Intl.DateTimeFormat("en-GB", {
  day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC",
});
const RELATIVE = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
function parseTime(value) {
  if (!value) return null;
  // DateTime values without a zone are UTC (the API's convention)
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}
function formatDate(value) {
  const date = parseTime(value);
  return date ? DATE.format(date) : "—";
}
function formatDateTime(value) {
  const date = parseTime(value);
  return date ? `${DATE_TIME.format(date)} UTC` : "—";
}
// "today", "in 12 days", "3 months ago": calendar days in UTC, like the dates shown
function relative(value, now = Date.now()) {
  const date = parseTime(value);
  if (!date) return "";
  const day = (time) => Math.floor(time / 86400000);
  const days = day(date.getTime()) - day(now);
  if (Math.abs(days) < 45) return RELATIVE.format(days, "day");
  if (Math.abs(days) < 320) return RELATIVE.format(Math.round(days / 30.44), "month");
  return RELATIVE.format(Math.round(days / 365.25), "year");
}
function timeElement(value, withTime = false) {
  const date = parseTime(value);
  if (!date) return el("span", { class: "muted" }, "—");
  return el("time", { datetime: date.toISOString(), title: formatDateTime(value) },
    withTime ? formatDateTime(value) : formatDate(value));
}
function count(value) { return Number(value).toLocaleString("en"); }
function plural(value, one, many = `${one}s`) { return `${count(value)} ${value === 1 ? one : many}`; }

// The soonest license expiry still ahead (or, when all have passed, the latest past one).
function nextExpiry(app, now = new Date()) {
  const dates = (app.licenses || []).map((l) => parseTime(l.expiresAt)).filter(Boolean).sort((a, b) => a - b);
  return dates.find((d) => d >= now) || dates[dates.length - 1] || null;
}
function expiryCell(app) {
  const date = nextExpiry(app);
  if (!date) return el("span", { class: "muted" }, "no license");
  const iso = date.toISOString();
  const days = (date.getTime() - Date.now()) / 86400000;
  const tone = days < 0 ? "bad" : days <= 30 ? "bad" : days <= 90 ? "warn" : "";
  return el("span", { class: `expiry ${tone}` }, timeElement(iso),
    el("small", { class: "muted" }, ` ${days < 0 ? "expired " : ""}${relative(iso)}`));
}
