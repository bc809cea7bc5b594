"""The benchmark's GraphQL documents: the nested reads, the tiny query, and ``DASHBOARD``.

``DASHBOARD`` is one document with the aggregations (ownership summary, license expiry
timeline, top technical contacts) and the five at-risk lists: what the first dashboard page
asked in a single request. The dashboard page of today (graph/static/) no longer sends it:
it sends its registered operations by ``documentId`` (graph/operations/*.graphql: Viewer,
then Overview and TopContacts for the overview; Apps, Regions, App, Person and Names for
the other views). ``DASHBOARD`` stays as a fixed aggregation workload, comparable across
runs."""

from __future__ import annotations

from typing import Any

# An app with everything nested: people (loaded), licenses, environments and their grants
APP_FIELDS = """
  id name subdomain hosting status orderedAt deliveredAt version
  technicalContacts { id name email mendixId status }
  teamMembers { id name }
  accountExecutive { id name }
  licenses { licenseId plan namedUsers concurrentUsers startsAt expiresAt renewedBy }
  environments { id name production state createdAt grants { right grantedAt person { name } } }
"""

NESTED_100 = f"""
query Nested($first: Int!, $after: String) {{
  apps(first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }}
    nodes {{ {APP_FIELDS} }}
  }}
}}"""

STORED_100 = """
query Stored($first: Int!, $after: String) {
  apps(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id name subdomain hosting status orderedAt deliveredAt version }
  }
}"""

# The page size is capped at 100, so the 1,000-app read is ten aliased pages in one document.
NESTED_1000 = (
    "query Nested1000("
    + ", ".join(f"$a{index}: String" for index in range(10))
    + ") {\n"
    + "\n".join(
        f"  p{index}: apps(first: 100, after: $a{index}) {{ nodes {{ {APP_FIELDS} }} }}"
        for index in range(10)
    )
    + "\n}"
)

TINY = "{ __typename }"

_RISKS = [
    ("inactive", "appsWithInactiveTechnicalContact", ""),
    ("noMendixId", "appsWithTechnicalContactWithoutMendixId", ""),
    ("expiring", "appsWithLicensesExpiring", "days: $days, "),
    ("noAlerts", "mendixCloudAppsWithoutAlerts", ""),
    ("manageByOthers", "appsWithProductionManagePermissionsGrantedToOthers", ""),
]

DASHBOARD = (
    "query Dashboard($first: Int!, $filter: AppsFilter, $days: Int!, $months: Int!) {\n"
    "  licenseExpiryTimeline(months: $months) { month count }\n"
    "  viewer { name isSupport }\n"
    "  ownershipSummary { hosting status count }\n"
    "  topTechnicalContacts(first: $first) {\n"
    "    totalCount pageInfo { hasNextPage endCursor }\n"
    "    nodes { appCount mendixCloudCount onPremisesCount orderedCount"
    " person { id name email status hasMendixId } }\n"
    "  }\n"
    + "\n".join(
        f"  {key}: {field}({args}first: $first, filter: $filter) {{ totalCount nodes {{ id name"
        " subdomain hosting status technicalContacts { name } licenses { expiresAt } } }"
        for key, field, args in _RISKS
    )
    + "\n}"
)
DASHBOARD_VARIABLES: dict[str, Any] = {"first": 10, "filter": None, "days": 90, "months": 12}

DASHBOARD_QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "dashboard page (summary, timeline, top contacts, 5 at-risk lists)",
        DASHBOARD,
        DASHBOARD_VARIABLES,
    )
]
