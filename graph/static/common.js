// The ownership dashboard, part 1 of 3: constants, the GraphQL client, DOM/SVG helpers.
// Classic scripts loaded in order (common.js, charts.js, dashboard.js) share one global scope.
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

