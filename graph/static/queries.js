// Every GraphQL operation the dashboard sends, each a whole named document (fragments
// included), so a server can register them as trusted documents. Nothing is interpolated:
// all values travel as variables. tests/test_dashboard_queries.py validates each document
// against the schema.
"use strict";

const OPERATIONS = {
  Viewer: `query Viewer {
  viewer { id name email isSupport }
}`,

  Overview: `query Overview($hosting: [Hosting!], $days: Int!, $months: Int!, $first: Int!, $order: AppOrder!) {
  ownershipSummary { hosting status count }
  licenseExpiryTimeline(months: $months) { month count }
  inactive: apps(first: $first, orderBy: $order, filter: {hosting: $hosting, risks: [TECHNICAL_CONTACT_INACTIVE]}) { ...RiskList }
  noMendixId: apps(first: $first, orderBy: $order, filter: {hosting: $hosting, risks: [TECHNICAL_CONTACT_WITHOUT_MENDIX_ID]}) { ...RiskList }
  expiring: apps(first: $first, orderBy: $order, filter: {hosting: $hosting, licenseExpiresWithinDays: $days}) { ...RiskList }
  noAlerts: apps(first: $first, orderBy: $order, filter: {hosting: $hosting, risks: [NO_ALERT_EMAIL]}) { ...RiskList }
  manageByOthers: apps(first: $first, orderBy: $order, filter: {hosting: $hosting, risks: [PRODUCTION_MANAGE_PERMISSIONS_HELD_BY_OTHERS]}) { ...RiskList }
}

fragment RiskList on AppConnection {
  totalCount
  nodes {
    id name hosting status
    technicalContacts { id name status hasMendixId }
    licenses { expiresAt }
  }
}`,

  TopContacts: `query TopContacts($first: Int!, $after: String) {
  topTechnicalContacts(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      appCount mendixCloudCount onPremisesCount orderedCount
      person { id name email status hasMendixId }
    }
  }
}`,

  Apps: `query Apps($first: Int, $after: String, $last: Int, $before: String, $filter: AppsFilter, $orderBy: AppOrder) {
  apps(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      id name subdomain hosting status region orderedAt deliveredAt
      technicalContacts { id name status hasMendixId }
      licenses { expiresAt }
    }
  }
}`,

  Person: `query Person($id: ID!) {
  technicalContactLoad(personId: $id) { appCount mendixCloudCount onPremisesCount orderedCount }
  node(id: $id) {
    ... on Person {
      id name email status mendixId hasMendixId isSupport createdAt
      technicalContactOf(first: 0) { totalCount }
      teamMemberOf(first: 0) { totalCount }
      accountExecutiveOf(first: 0) { totalCount }
    }
  }
}`,

  App: `query App($id: ID!, $recent: Int!) {
  app(id: $id) {
    id name subdomain hosting status version region projectId orderedAt deliveredAt
    technicalContacts { ...PersonLink }
    teamMembers { ...PersonLink }
    accountExecutive { ...PersonLink }
    licenses { licenseId plan namedUsers concurrentUsers startsAt expiresAt renewedBy }
    environments {
      id name production state createdAt
      alertSettings { emailEnabled recipients { ...PersonLink } }
      alertStatus { category status }
    }
    alerts(last: $recent) {
      totalCount
      nodes { id category status previousStatus value unit environmentName production at recovered }
    }
    auditTrail(first: $recent, orderBy: {field: OCCURRED_AT, direction: DESC}) {
      totalCount
      nodes { id action at version production actor { ...PersonLink } before after }
    }
    supportRequests(first: $recent, orderBy: {field: CREATED_AT, direction: DESC}) {
      totalCount
      nodes {
        id kind subject status priority impact urgency createdAt updatedAt resolvedAt
        requester { ...PersonLink }
      }
    }
  }
}

fragment PersonLink on Person { id name status hasMendixId }`,

  Names: `query Names($ids: [ID!]!) {
  nodes(ids: $ids) { id ... on Person { name } ... on SupportRequest { subject } }
}`,
};

// The POST body for one operation: the whole document, named.
async function requestBody(name, query, variables) {
  return { query, variables, operationName: name };
}
