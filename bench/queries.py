"""The benchmark's GraphQL documents. DASHBOARD_QUERIES is the extension point for the
dashboard aggregations (none exist on this branch yet): add (name, document, variables)."""

from __future__ import annotations

from typing import Any

APP_FIELDS = """
  id name subdomain hosting status orderedAt deliveredAt version
  technicalContacts { id name email mendixId status }
  teamMembers { id name }
  accountExecutive { id name }
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

DASHBOARD_QUERIES: list[tuple[str, str, dict[str, Any]]] = []
