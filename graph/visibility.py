"""Loaders scoped to the viewer, for fields naming someone the viewer did not choose to see."""

from __future__ import annotations

from bson import ObjectId
from strawberry.dataloader import DataLoader

from graph.context import Context
from resolvers import people as people_cases
from store.people import PersonRecord


def visible_people(context: Context) -> DataLoader[ObjectId, PersonRecord | None]:
    """The request's loader of the people the viewer may see (resolvers/people.py
    ``visible_people``; None for the others), made once per request.

    The person a CHANGE support request names is chosen by its submitter: read through this,
    neither the mutation's payload nor a later read discloses someone the viewer may not see.
    """
    loader = context.extra.get("visible_people")
    if loader is None:

        async def load(keys: list[ObjectId]) -> list[PersonRecord | None]:
            return await people_cases.visible_people(context.db, context.viewer, keys)

        loader = context.extra["visible_people"] = DataLoader(load_fn=load)
    return loader  # type: ignore[no-any-return]
