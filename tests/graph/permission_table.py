"""The permission table as data: who may do what, per mutation, root field and
subscription, for five kinds of people and three kinds of token (tests/graph/test_permissions.py
checks it over HTTP; docs/tokens-and-permissions.md shows it)."""

from __future__ import annotations

# viewer kinds: five people (relative to the world's apps) and three kinds of token
PEOPLE = ("support", "contact", "member", "executive", "outsider")
TOKENS = ("inactive", "read_only", "metrics")
VIEWERS = PEOPLE + TOKENS

OK, FORBIDDEN, NOT_FOUND = "ok", "FORBIDDEN", "NOT_FOUND"
MISSING_RIGHT, CONTACT_ONLY = "MISSING_RIGHT", "TECHNICAL_CONTACT_ONLY"
SEES, HIDDEN = "sees", "hidden"  # root fields: the world's app shows, or doesn't
UNAUTHENTICATED, INSUFFICIENT_SCOPE = "401", "403"


def row(support: str, contact: str, member: str, executive: str, outsider: str) -> dict[str, str]:
    """One operation's cells for the five people; the token columns follow the scope rules:
    an INACTIVE person's token 401, a METRICS token 403 on /graphql, a READ_ONLY token (the
    technical contact's) 403 for a mutation and as its person for a query."""
    return dict(zip(PEOPLE, (support, contact, member, executive, outsider), strict=True))


# README "Who may do what" and the rule tables of each area, plus tokens. "member" is on the
# app's team, "executive" its account executive, "outsider" on no team of the world's apps.
MUTATIONS: dict[str, dict[str, str]] = {
    "createPerson": row(OK, OK, OK, OK, OK),
    "registerMendixId": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),  # someone else's
    "setPersonStatus": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "createApp": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "setAccountExecutive": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "addTeamMember": row(OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "removeTeamMember": row(OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "changeTechnicalContact": row(OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "addTechnicalContact": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "removeTechnicalContact": row(OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "deliverApp": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "moveAppToMendixCloud": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "connectProject": row(CONTACT_ONLY, OK, CONTACT_ONLY, CONTACT_ONLY, NOT_FOUND),
    "addLicense": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "renewLicense": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "changeLicense": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "requestLicenseExpansion": row(OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "postMaintenanceWindow": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "submitSupportRequest": row(FORBIDDEN, OK, OK, FORBIDDEN, NOT_FOUND),
    "commentOnSupportRequest": row(OK, OK, OK, FORBIDDEN, NOT_FOUND),
    "triageSupportRequest": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "resolveSupportRequest": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "rejectSupportRequest": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "approveSupportRequest": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "addEnvironment": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "setEnvironmentState": row(MISSING_RIGHT, OK, MISSING_RIGHT, MISSING_RIGHT, NOT_FOUND),
    "grantEnvironmentRights": row(MISSING_RIGHT, OK, MISSING_RIGHT, MISSING_RIGHT, NOT_FOUND),
    "revokeEnvironmentRights": row(MISSING_RIGHT, OK, MISSING_RIGHT, MISSING_RIGHT, NOT_FOUND),
    "updateAlertSettings": row(MISSING_RIGHT, OK, MISSING_RIGHT, MISSING_RIGHT, NOT_FOUND),
    "reportMetrics": row(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),  # POST /metrics
    "createAccessToken": row(OK, OK, OK, OK, OK),
    "revokeAccessToken": row(OK, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),  # the contact's token
}
QUERIES: dict[str, dict[str, str]] = {
    "node": row(SEES, SEES, SEES, SEES, HIDDEN),
    "nodes": row(SEES, SEES, SEES, SEES, HIDDEN),
    "viewer": row(OK, OK, OK, OK, OK),
    "people": row(SEES, SEES, SEES, SEES, HIDDEN),  # the world's technical contact
    "app": row(SEES, SEES, SEES, SEES, HIDDEN),
    "apps": row(SEES, SEES, SEES, SEES, HIDDEN),
    "notifications": row(OK, OK, OK, OK, OK),
    "maintenanceWindows": row(OK, OK, OK, OK, OK),
    "supportRequests": row(SEES, SEES, SEES, SEES, HIDDEN),
    "ownershipSummary": row(SEES, SEES, SEES, SEES, HIDDEN),
    "appRegions": row(OK, OK, OK, OK, OK),
    "topTechnicalContacts": row(SEES, SEES, SEES, SEES, HIDDEN),
    "technicalContactLoad": row(SEES, SEES, SEES, SEES, HIDDEN),
    "appsWithInactiveTechnicalContact": row(OK, OK, OK, OK, OK),
    "appsWithTechnicalContactWithoutMendixId": row(OK, OK, OK, OK, OK),
    "mendixCloudAppsWithoutAlerts": row(OK, OK, OK, OK, OK),
    "appsWithProductionManagePermissionsGrantedToOthers": row(OK, OK, OK, OK, OK),
    "appsWithLicensesExpiring": row(SEES, SEES, SEES, SEES, HIDDEN),
    "licenseExpiryTimeline": row(SEES, SEES, SEES, SEES, HIDDEN),
}
# over WebSocket (tests/graph/test_tokens.py and test_subscriptions.py run them live)
SUBSCRIPTIONS: dict[str, dict[str, str]] = {
    "alertRaised": row(OK, OK, OK, OK, NOT_FOUND),  # appId: the world's cloud app
}


def token_cells(operation: str, kind: str) -> dict[str, str]:
    """The token columns: what an INACTIVE person's, a READ_ONLY and a METRICS token get."""
    as_person = QUERIES.get(operation, SUBSCRIPTIONS.get(operation, {})).get("contact")
    read_only = INSUFFICIENT_SCOPE if kind == "mutation" else as_person
    return {"inactive": UNAUTHENTICATED, "read_only": read_only, "metrics": INSUFFICIENT_SCOPE}


def table() -> dict[str, dict[str, str]]:
    """Every operation's row with all eight columns."""
    full: dict[str, dict[str, str]] = {}
    for kind, rows in (
        ("mutation", MUTATIONS),
        ("query", QUERIES),
        ("subscription", SUBSCRIPTIONS),
    ):
        for name, cells in rows.items():
            full[name] = {**cells, **token_cells(name, kind)}  # type: ignore[dict-item]
    return full
