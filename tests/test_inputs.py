"""The GraphQL input types and the pydantic inputs the use cases validate them with stay in
step: the same fields, required in both or optional in both. graph/payloads.py hands a
GraphQL input to its use case as a plain dict and the pydantic models forbid extra keys, so a
drift would refuse every use of a new field at runtime; here it fails at once."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from graphql import GraphQLInputObjectType, GraphQLNonNull, Undefined
from pydantic import BaseModel

from graph.schema import schema

# GraphQL input type -> the pydantic model (resolvers.<module>.<class>) that validates it
VALIDATED_BY = {
    "MetricSampleInput": "alerts.SampleInput",
    "ReportMetricsInput": "alerts.ReportInput",
    "AlertThresholdInput": "alerts.ThresholdInput",
    "UpdateAlertSettingsInput": "alerts.AlertSettingsInput",
    "AppsFilter": "app_views.AppsFilter",
    "CreateAppInput": "apps.CreateAppInput",
    "AppPersonInput": "apps.AppPersonInput",
    "AppInput": "apps.AppInput",
    "AddEnvironmentInput": "environments.AddEnvironmentInput",
    "SetEnvironmentStateInput": "environments.SetStateInput",
    "EnvironmentRightsInput": "permissions.RightsInput",
    "ConnectProjectInput": "permissions.ConnectProjectInput",
    "AddLicenseInput": "licenses.AddLicenseInput",
    "RenewLicenseInput": "licenses.RenewLicenseInput",
    "ChangeLicenseInput": "licenses.ChangeLicenseInput",
    "RequestLicenseExpansionInput": "licenses.ExpansionInput",
    "NotificationsFilter": "notifications.NotificationsFilter",
    "PostMaintenanceWindowInput": "maintenance.PostMaintenanceInput",
    "PeopleFilter": "people.PeopleFilter",
    "CreatePersonInput": "people.CreatePersonInput",
    "RegisterMendixIdInput": "people.RegisterMendixIdInput",
    "SetPersonStatusInput": "people.SetPersonStatusInput",
    "SupportRequestsFilter": "support.RequestsFilter",
    "SubmitSupportRequestInput": "support.SubmitInput",
    "CommentOnSupportRequestInput": "support.CommentInput",
    "TriageSupportRequestInput": "support.TriageInput",
    "CloseSupportRequestInput": "support.CloseInput",
    "CreateAccessTokenInput": "tokens.CreateAccessTokenInput",
    "RevokeAccessTokenInput": "tokens.RevokeAccessTokenInput",
}
# GraphQL inputs of enums only: GraphQL's own coercion checks every value they can hold
UNVALIDATED = {
    "AppOrder",
    "AuditEventOrder",
    "NotificationOrder",
    "PersonOrder",
    "SupportRequestOrder",
}


def _inputs() -> dict[str, GraphQLInputObjectType]:
    return {
        name: gtype
        for name, gtype in schema._schema.type_map.items()
        if isinstance(gtype, GraphQLInputObjectType)
    }


def _model(path: str) -> type[BaseModel]:
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(f"resolvers.{module}"), name)  # type: ignore[no-any-return]


def _graphql_fields(gtype: GraphQLInputObjectType) -> dict[str, bool]:
    """python name -> required (non-null without a default)."""
    definition: Any = schema.get_type_by_name(gtype.name)
    names = schema.config.name_converter
    fields = {}
    for field in definition.fields:
        graphql = gtype.fields[names.get_graphql_name(field)]
        fields[field.python_name] = (
            isinstance(graphql.type, GraphQLNonNull) and graphql.default_value is Undefined
        )
    return fields


def test_every_input_type_names_its_model() -> None:
    assert set(_inputs()) - UNVALIDATED == set(VALIDATED_BY)


@pytest.mark.parametrize("name", sorted(VALIDATED_BY))
def test_input_type_and_model_agree(name: str) -> None:
    model = _model(VALIDATED_BY[name])
    graphql = _graphql_fields(_inputs()[name])
    pydantic = {field: info.is_required() for field, info in model.model_fields.items()}
    assert graphql == pydantic
