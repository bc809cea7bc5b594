"""`appRegions`: the Mendix Cloud regions of the apps the viewer may see (the dashboard's
region filter), on both tiers."""

from __future__ import annotations

from typing import Any

from store import apps as app_store
from store.apps import Hosting
from store.people import PersonRecord
from tests.helpers import gql, make_person

REGIONS = "{ appRegions }"


async def test_regions_of_visible_apps_sorted_and_without_on_premises(
    db: Any, support: PersonRecord
) -> None:
    assert (await gql(db, support, REGIONS))["appRegions"] == []
    ann = await make_person(db, "ann@example.com", "Ann")
    bob = await make_person(db, "bob@example.com", "Bob")
    for name, owner, hosting, region in (
        ("one", ann, Hosting.MENDIX_CLOUD, "us-east-1"),
        ("two", ann, Hosting.MENDIX_CLOUD, "eu-central-1"),
        ("three", ann, Hosting.MENDIX_CLOUD, "us-east-1"),
        ("four", bob, Hosting.MENDIX_CLOUD, "ap-southeast-2"),
        ("five", bob, Hosting.ON_PREMISES, None),
    ):
        await app_store.create_app(
            db, name=name, subdomain=name, hosting=hosting, technical_contact_id=owner.id,
            region=region,
        )  # fmt: skip
    everything = ["ap-southeast-2", "eu-central-1", "us-east-1"]
    assert (await gql(db, support, REGIONS))["appRegions"] == everything
    assert (await gql(db, ann, REGIONS))["appRegions"] == ["eu-central-1", "us-east-1"]
    assert (await gql(db, bob, REGIONS))["appRegions"] == ["ap-southeast-2"]
    nobody = await make_person(db, "cy@example.com", "Cy")
    assert (await gql(db, nobody, REGIONS))["appRegions"] == []
