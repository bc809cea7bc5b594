"""AppViewerCan: what the viewer may do to an app, for a frontend to enable its buttons.

Each answer is the mutation's own right (resolvers/rights.py ``APP_RIGHTS``), evaluated on
the app: the same code the mutation checks and states in its write. The domain rules (for
example "only On-Premises apps take a second technical contact") are not part of it: a
mutation the viewer may make can still be refused by a rule, with that rule's code.
"""

from __future__ import annotations

import re

import strawberry

from resolvers.rights import viewer_can
from store.apps import AppRecord
from store.people import PersonRecord


@strawberry.type(description="Whether you hold the right each app mutation needs on this app.")
class AppViewerCan:
    set_account_executive: bool
    add_team_member: bool
    remove_team_member: bool
    change_technical_contact: bool
    add_technical_contact: bool
    remove_technical_contact: bool
    deliver_app: bool
    move_app_to_mendix_cloud: bool
    connect_project: bool
    add_environment: bool
    add_license: bool
    renew_license: bool
    change_license: bool
    request_license_expansion: bool
    submit_support_request: bool


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def app_viewer_can(viewer: PersonRecord, app: AppRecord) -> AppViewerCan:
    return AppViewerCan(**{_snake(name): can for name, can in viewer_can(viewer, app).items()})
