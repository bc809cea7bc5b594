"""Differential tests: the compiled read path (graph/fast/) answers exactly like standard
execution, on generated queries over clean and deliberately malformed stored data.

Tier-independent: the data lives in one mongomock database per module (the compiled path
never talks to MongoDB itself; root resolvers run unchanged on both paths), so these run
once, not per tier.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from mongomock_motor import AsyncMongoMockClient

from graph import fast
from graph.context import Context, Loaders
from graph.schema import schema
from store import apps as app_store
from store import people as people_store
from store.apps import AppRecord
from store.db import ensure_indexes
from store.people import PersonRecord, Role
from tests.helpers import create_app, make_person, pid, run

pytestmark = pytest.mark.fast_path  # checks the fast path itself: off in `make test-standard`

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)


def test_fast_path_is_on_here() -> None:
    """This suite holds the compiled path to standard execution, so it must run here: `make`
    installs the verified versions (constraints.txt). On other versions graph/fast/ turns
    itself off (tests/graph/test_fast_versions.py); OWNERSHIP_VERIFY_FAST=1 forces it on to
    verify a new version with these tests."""
    assert fast.ACTIVE, f"unverified versions installed: {fast.UNVERIFIED}"


class World:
    """A seeded database, the viewers, known global IDs and an event loop to run on."""

    def __init__(self, malformed: bool) -> None:
        self.loop = asyncio.new_event_loop()
        self.malformed = malformed
        self.db: Any = None
        self.viewers: list[PersonRecord] = []
        self.ids: list[str] = []
        self.loop.run_until_complete(self.seed())

    async def seed(self) -> None:
        client = AsyncMongoMockClient(tz_aware=True)
        db = self.db = client.get_database("fast")
        await ensure_indexes(db)
        support = await make_person(db, "support@x.example", "Sam", roles=(Role.SUPPORT,))
        tess = await make_person(db, "tess@x.example", "Tess", mendix_id="tess-1")
        ann = await make_person(db, "ann@x.example", "Ann")
        apps = []
        for index in range(8):
            hosting = "ON_PREMISES" if index % 3 else "MENDIX_CLOUD"
            apps.append(await create_app(db, support, tess, hosting=hosting))
        await run(db, support, "addTeamMember", appId=apps[0]["id"], personId=pid(ann))
        await run(db, support, "setAccountExecutive", appId=apps[1]["id"], personId=pid(ann))
        await run(db, support, "deliverApp", appId=apps[2]["id"])
        self.viewers = [support, tess, ann]
        self.ids = [app["id"] for app in apps[:3]] + [pid(tess), pid(ann), "bm90LWFuLWlk"]
        if self.malformed:
            await self.spoil(db)

    async def spoil(self, db: Any) -> None:
        """Nulls, missing keys and wrong types in stored documents."""
        docs = await db.apps.find({}).sort("_id", 1).to_list(None)
        spoiled = [
            {"$set": {"name": None}},
            {"$unset": {"subdomain": "", "version": ""}},
            {"$set": {"hosting": "ON_THE_MOON", "status": 7}},
            {"$set": {"version": "three", "ordered_at": "yesterday"}},
            {"$set": {"delivered_at": 12, "name": ["a", "list"]}},
            {"$set": {"technical_contact_ids": None, "version": 2**40, "member_ids": [["x"]]}},
            {"$set": {"subdomain": {"nested": True}, "member_ids": "nobody"}},
        ]
        for doc, update in zip(docs[1:], spoiled, strict=False):
            await db.apps.update_one({"_id": doc["_id"]}, update)
        people = await db.people.find({}).sort("_id", 1).to_list(None)
        await db.people.update_one({"_id": people[1]["_id"]}, {"$set": {"name": None}})
        await db.people.update_one({"_id": people[2]["_id"]}, {"$unset": {"email": ""}})

    def execute(self, document: str, variables: dict[str, Any], viewer: PersonRecord) -> Any:
        async def once() -> Any:
            context = Context(db=self.db, viewer=viewer, loaders=Loaders.create(self.db))
            result = await schema.execute(
                document, variable_values=variables, context_value=context
            )
            # let work settled in the background finish before the loop stops
            current = asyncio.current_task()
            others = [task for task in asyncio.all_tasks() if task is not current]
            await asyncio.gather(*others, return_exceptions=True)
            return result

        result = self.loop.run_until_complete(once())
        # collect here what a cancelled sibling field left unawaited (see pyproject.toml's
        # filterwarnings), not later inside another query's generated code
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gc.collect()
        return result


def _lenient(record: type[Any]) -> Any:
    """Build records without validation, so malformed values reach the GraphQL layer."""

    def parse(doc: dict[str, Any]) -> Any:
        values = {key: value for key, value in doc.items() if key != "_id"}
        return record.model_construct(id=doc["_id"], **values)

    return parse


@pytest.fixture(scope="module")
def clean() -> Iterator[World]:
    world = World(malformed=False)
    yield world
    world.loop.close()


@pytest.fixture(scope="module")
def malformed() -> Iterator[World]:
    world = World(malformed=True)
    yield world
    world.loop.close()


@pytest.fixture
def lenient_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_store.AppRecord, "model_validate", _lenient(AppRecord))
    monkeypatch.setattr(people_store.PersonRecord, "model_validate", _lenient(PersonRecord))


def _shape(result: Any) -> tuple[Any, Any]:
    errors = [error.formatted for error in result.errors] if result.errors else None
    return result.data, errors


def assert_same(world: World, document: str, variables: dict[str, Any], viewer: Any) -> None:
    with fast.standard():
        expected = world.execute(document, variables, viewer)
    compiled = world.execute(document, variables, viewer)
    assert _shape(compiled) == _shape(expected), document


# --- our own generator: aliases, named and inline fragments, directives, variables ---------

_GRAPHQL = schema._schema
_FIRSTS = [None, 0, 1, 2, 3, 5, 100, 101, -1]
_APP_FILTERS = [
    "{hosting: ON_PREMISES}",
    "{hosting: [MENDIX_CLOUD, ON_PREMISES], status: [DELIVERED]}",
    "{status: []}",
    "{risks: [LICENSE_EXPIRING, NO_ALERT_EMAIL]}",
    "{risks: [TECHNICAL_CONTACT_WITHOUT_MENDIX_ID], licenseExpiresWithinDays: 400}",
    '{licensePlan: ["Standard"], region: ["eu-1"]}',
    "{licenseExpiresWithinDays: 0}",  # a typed error
    '{search: "a"}',
]


class _Doc:
    def __init__(self, draw: Any, ids: list[str]) -> None:
        self.draw = draw
        self.ids = ids
        self.fragments: list[str] = []
        self.variables: dict[str, bool] = {}
        self.count = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def directive(self) -> str:
        choice = self.draw(st.sampled_from(["", "", "", "skip", "include"]))
        if not choice:
            return ""
        if self.draw(st.booleans()):
            name = self.fresh("v")
            self.variables[name] = self.draw(st.booleans())
            return f" @{choice}(if: ${name})"
        return f" @{choice}(if: {str(self.draw(st.booleans())).lower()})"

    def arguments(self, field: Any) -> str:
        parts = []
        for name, arg in field.args.items():
            type_text = str(arg.type)
            if name in ("first", "last") and self.draw(st.booleans()):
                first = self.draw(st.sampled_from(_FIRSTS))
                if first is not None:
                    parts.append(f"{name}: {first}")
            elif type_text == "ID!":
                parts.append(f'{name}: "{self.draw(st.sampled_from(self.ids))}"')
            elif type_text == "[ID!]!":
                chosen = self.draw(st.lists(st.sampled_from(self.ids), max_size=3))
                parts.append(f"{name}: [{', '.join(f'{x!r}' for x in chosen)}]".replace("'", '"'))
            elif type_text.endswith("Order") and self.draw(st.booleans()):  # AppOrder, ...
                fields = _GRAPHQL.type_map[type_text].fields  # type: ignore[union-attr]
                field = self.draw(st.sampled_from(sorted(fields["field"].type.of_type.values)))
                direction = self.draw(st.sampled_from(["", "ASC", "DESC"]))
                direction = f", direction: {direction}" if direction else ""
                parts.append(f"orderBy: {{field: {field}{direction}}}")
            elif type_text == "AppsFilter" and self.draw(st.booleans()):
                parts.append(f"filter: {self.draw(st.sampled_from(_APP_FILTERS))}")
            elif type_text.endswith("!"):
                return "SKIP"
        return f"({', '.join(parts)})" if parts else ""

    def selection(self, type_: Any, depth: int) -> str:
        named = type_
        while hasattr(named, "of_type"):
            named = named.of_type
        if hasattr(named, "types") or named.name == "Node":  # abstract: inline fragments
            parts = ["__typename"]
            for concrete in ("App", "Person", "AuditEvent"):
                if self.draw(st.booleans()):
                    parts.append(
                        f"... on {concrete}{self.directive()} "
                        f"{{ {self.fields(_GRAPHQL.type_map[concrete], depth)} }}"
                    )
            return " ".join(parts)
        return self.fields(named, depth)

    def fields(self, object_type: Any, depth: int) -> str:
        names = sorted(object_type.fields)
        chosen = self.draw(st.lists(st.sampled_from(names), min_size=1, max_size=6))
        if self.draw(st.integers(0, 5)) == 0:
            chosen.append("__typename")
        parts = []
        for name in chosen:
            if name == "__typename":
                parts.append(f"{self.fresh('t')}: __typename" if self.draw(st.booleans()) else name)
                continue
            field = object_type.fields[name]
            named = field.type
            while hasattr(named, "of_type"):
                named = named.of_type
            is_leaf = not hasattr(named, "fields") and not hasattr(named, "types")
            if not is_leaf and named.name != "Node" and depth <= 0:
                continue
            args = self.arguments(field)
            if args == "SKIP":
                continue
            alias = f"{self.fresh('a')}: " if self.draw(st.integers(0, 3)) == 0 else ""
            sub = "" if is_leaf else f" {{ {self.selection(field.type, depth - 1)} }}"
            text = f"{alias}{name}{args}{self.directive()}{sub}"
            wrap = self.draw(st.integers(0, 6))
            if wrap == 0:
                fragment = self.fresh("F")
                self.fragments.append(f"fragment {fragment} on {object_type.name} {{ {text} }}")
                text = f"...{fragment}{self.directive()}"
            elif wrap == 1:
                text = f"... on {object_type.name}{self.directive()} {{ {text} }}"
            elif wrap == 2:
                text = f"...{self.directive()} {{ {text} }}"
            parts.append(text)
        return " ".join(parts) or "__typename"


@st.composite
def documents(draw: Any, ids: list[str]) -> tuple[str, dict[str, bool]]:
    doc = _Doc(draw, ids)
    body = doc.fields(_GRAPHQL.query_type, draw(st.integers(1, 5)))
    declared = ", ".join(f"${name}: Boolean!" for name in doc.variables)
    head = f"query Q({declared})" if declared else "query Q"
    return "\n".join([f"{head} {{ {body} }}", *doc.fragments]), doc.variables


_VIEWER = st.integers(0, 2)


@SETTINGS
@given(data=st.data())
def test_own_generator_on_clean_data(clean: World, data: Any) -> None:
    document, variables = data.draw(documents(clean.ids))
    assert_same(clean, document, variables, clean.viewers[data.draw(_VIEWER)])


@SETTINGS
@given(data=st.data())
def test_own_generator_on_malformed_data(
    malformed: World, lenient_records: None, data: Any
) -> None:
    document, variables = data.draw(documents(malformed.ids))
    assert_same(malformed, document, variables, malformed.viewers[data.draw(_VIEWER)])


_HYPOTHESIS_GRAPHQL = queries(_GRAPHQL, allow_x00=False, codec="utf-8")


@SETTINGS
@given(document=_HYPOTHESIS_GRAPHQL, viewer=_VIEWER)
def test_hypothesis_graphql_on_clean_data(clean: World, document: str, viewer: int) -> None:
    assert_same(clean, document, {}, clean.viewers[viewer])


@SETTINGS
@given(document=_HYPOTHESIS_GRAPHQL, viewer=_VIEWER)
def test_hypothesis_graphql_on_malformed_data(
    malformed: World, lenient_records: None, document: str, viewer: int
) -> None:
    assert_same(malformed, document, {}, malformed.viewers[viewer])


NESTED = """
query ($skip: Boolean!) {
  viewer { id name __typename }
  apps(first: 100) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id } }
    nodes {
      __typename id name subdomain hosting status orderedAt deliveredAt version
      ...More @skip(if: $skip)
      technicalContacts { id name email mendixId status createdAt hasMendixId }
      teamMembers { id name } accountExecutive { id name }
    }
  }
}
fragment More on App { again: name v: version ... on App { sub: subdomain } }
"""


@pytest.mark.parametrize("skip", [False, True])
def test_the_dashboard_query_is_compiled_and_identical(clean: World, skip: bool) -> None:
    reruns, served = fast.PLANS.reruns, fast.PLANS.served
    for viewer in clean.viewers:
        assert_same(clean, NESTED, {"skip": skip}, viewer)
    assert fast.PLANS.served == served + len(clean.viewers)  # compiled, not declined
    assert fast.PLANS.reruns == reruns  # and not re-run the standard way
    hits = fast.PLANS.hits
    clean.execute(NESTED, {"skip": skip}, clean.viewers[0])
    assert fast.PLANS.hits == hits + 1  # cached by document and the @skip variable


@pytest.mark.parametrize("skip", [False, True])
def test_malformed_dashboard_query(malformed: World, lenient_records: None, skip: bool) -> None:
    reruns = fast.PLANS.reruns
    for viewer in malformed.viewers:
        assert_same(malformed, NESTED, {"skip": skip}, viewer)
    assert fast.PLANS.reruns > reruns  # errors below the roots: answered the standard way


STORED = """
query {
  apps(first: 100) {
    nodes {
      id name subdomain hosting status orderedAt deliveredAt version
      technicalContacts { id name email mendixId status }
      teamMembers { id name } accountExecutive { id name }
      again: technicalContacts { name id }
    }
  }
}
"""


class _AppLike(AppRecord):
    """A record class of its own: the fast functions (exactly AppRecord) hand it over."""


class _PersonLike(PersonRecord):
    pass


def _subclassed(record: type[Any]) -> Any:
    def parse(doc: dict[str, Any]) -> Any:
        values = {key: value for key, value in doc.items() if key != "_id"}
        return record.model_construct(id=doc["_id"], **values)

    return parse


class _Str(str):
    pass


def _odd_but_valid(record: type[Any]) -> Any:
    """About every third record gets values the fast forms do not expect but standard execution
    completes without error (a bool for an Int, a str subclass), and tuples for lists."""

    def parse(doc: dict[str, Any]) -> Any:
        values = {key: value for key, value in doc.items() if key != "_id"}
        if int(str(doc["_id"]), 16) % 3 == 0:
            if "version" in values:
                values["version"] = True
            if isinstance(values.get("name"), str):
                values["name"] = _Str(values["name"])
        for key in ("member_ids", "technical_contact_ids"):
            if isinstance(values.get(key), list):
                values[key] = tuple(values[key])
        return record.model_construct(id=doc["_id"], **values)

    return parse


def test_stored_fields_fast_forms_and_their_fallbacks(
    clean: World, malformed: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only stored and loaded fields: one dict literal per object and one fill function per
    loaded list, handing malformed values and other record classes to the careful forms."""
    reruns = fast.PLANS.reruns
    for viewer in clean.viewers:
        assert_same(clean, STORED, {}, viewer)
    assert fast.PLANS.reruns == reruns
    with monkeypatch.context() as patched:
        patched.setattr(app_store.AppRecord, "model_validate", _subclassed(_AppLike))
        patched.setattr(people_store.PersonRecord, "model_validate", _subclassed(_PersonLike))
        for viewer in clean.viewers:
            assert_same(clean, STORED, {}, viewer)
        assert fast.PLANS.reruns == reruns
    with monkeypatch.context() as patched:  # handed over mid-list, without any error
        patched.setattr(app_store.AppRecord, "model_validate", _odd_but_valid(AppRecord))
        patched.setattr(people_store.PersonRecord, "model_validate", _odd_but_valid(PersonRecord))
        for viewer in clean.viewers:
            assert_same(clean, STORED, {}, viewer)
        assert fast.PLANS.reruns == reruns
    monkeypatch.setattr(app_store.AppRecord, "model_validate", _lenient(AppRecord))
    monkeypatch.setattr(people_store.PersonRecord, "model_validate", _lenient(PersonRecord))
    for viewer in malformed.viewers:
        assert_same(malformed, STORED, {}, viewer)
    assert fast.PLANS.reruns > reruns


def test_views_over_embedded_values_are_computed_directly(
    clean: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sync resolvers taking only their parent (licenses, environments) are called by the
    compiled code itself, not through graphql-core's execute_field (and answer alike)."""
    document = "{ apps(first: 10) { nodes { name licenses { plan } environments { name } } } }"
    assert_same(clean, document, {}, clean.viewers[0])
    resolved: list[str] = []
    original = fast.FastExecutionContext.execute_field

    def spy(self: Any, parent: Any, source: Any, group: Any, *rest: Any) -> Any:
        resolved.append(group[0].node.name.value)
        return original(self, parent, source, group, *rest)

    monkeypatch.setattr(fast.FastExecutionContext, "execute_field", spy)
    result = clean.execute(document, {}, clean.viewers[0])
    assert not result.errors and result.data["apps"]["nodes"]
    assert resolved == ["apps"]


def test_a_rerun_starts_with_fresh_loaders(malformed: World) -> None:
    """A root field fails (data is null) while a sibling's loads fail too. Standard execution
    reports only the root error (the sibling's loads are still pending when data is nulled);
    a re-run that reused the first run's loaders found the failure cached at once and
    reported both."""
    app = malformed.ids[0]
    document = (
        f'{{ r1: app(id: "{app}") {{ teamMembers {{ createdAt }} }} '
        "r0: apps(first: -1) { totalCount } }"
    )
    reruns = fast.PLANS.reruns
    assert_same(malformed, document, {}, malformed.viewers[0])
    assert fast.PLANS.reruns == reruns + 1


def test_mutations_and_introspection_are_declined(clean: World) -> None:
    misses = fast.PLANS.misses
    assert_same(clean, "{ __schema { queryType { name } } }", {}, clean.viewers[0])
    document = (
        'mutation { createPerson(input: {email: "x@y.example", name: "X"}) '
        "{ userErrors { code } } }"
    )
    result = clean.execute(document, {}, clean.viewers[1])
    assert result.errors is None
    assert fast.PLANS.misses == misses + 1  # the introspection query only


def test_parser_and_validation_caches_hit(clean: World) -> None:
    """The rules are built once (graph/limits.py), so the validation cache keyed by them hits."""
    from strawberry.extensions.parser_cache import _get_parse_cache
    from strawberry.extensions.validation_cache import _get_validate_cache

    from graph.limits import CACHE_SIZE

    document = "query CacheProbe { viewer { name } }"
    clean.execute(document, {}, clean.viewers[0])
    parsed = _get_parse_cache(CACHE_SIZE).cache_info().hits
    validated = _get_validate_cache(CACHE_SIZE).cache_info().hits
    clean.execute(document, {}, clean.viewers[0])
    assert _get_parse_cache(CACHE_SIZE).cache_info().hits == parsed + 1
    assert _get_validate_cache(CACHE_SIZE).cache_info().hits == validated + 1
