"""Projections (graph/fast/projection.py): the apps root fields read only what the selection needs.

- An oracle: generated queries (tests/graph/test_fast.py's generator: aliases, fragments,
  directives, variables, ``node``/``nodes``) over apps with licenses, environments and grants
  answer exactly as with whole documents (``whole_documents()``) and standard execution.
- The store is asked for the expected attributes, returns only those keys, and builds records
  that have only those fields; an undeclared resolver field reads the whole document.
- Malformed data: a malformed field that is not selected no longer fails the read; a
  malformed selected field fails exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from graph import fast
from graph.context import Context, Loaders
from graph.fast import projection
from graph.schema import schema
from resolvers.ids import decode
from store import apps as app_store
from store.apps import AppRecord
from store.people import PersonRecord
from tests.graph.test_fast import _GRAPHQL, SETTINGS, World, _Doc, _shape, documents
from tests.helpers import create_app, gql, make_person, pid

ADD_LICENSE = """
mutation ($input: AddLicenseInput!) {
  addLicense(input: $input) { userErrors { code } }
}"""
ADD_ENVIRONMENT = """
mutation ($input: AddEnvironmentInput!) {
  addEnvironment(input: $input) { environment { id } userErrors { code } }
}"""
GRANT = """
mutation ($input: EnvironmentRightsInput!) {
  grantEnvironmentRights(input: $input) { userErrors { code } }
}"""


async def _license(db: Any, support: PersonRecord, app_id: str, license_id: str) -> None:
    data = await gql(
        db,
        support,
        ADD_LICENSE,
        {
            "input": {
                "appId": app_id,
                "licenseId": license_id,
                "plan": "Standard",
                "namedUsers": 10,
                "concurrentUsers": 5,
                "startsAt": "2026-01-01T00:00:00+00:00",
                "expiresAt": "2027-01-01T00:00:00+00:00",
            }
        },
    )
    assert data["addLicense"]["userErrors"] == []


async def _environment(db: Any, support: PersonRecord, app_id: str, name: str) -> str:
    data = await gql(db, support, ADD_ENVIRONMENT, {"input": {"appId": app_id, "name": name}})
    assert data["addEnvironment"]["userErrors"] == []
    return str(data["addEnvironment"]["environment"]["id"])


class RichWorld(World):
    """test_fast.py's world plus licenses, environments and a grant on its apps."""

    async def seed(self) -> None:
        await super().seed()
        support, tess, ann = self.viewers
        cloud, on_premises = self.ids[0], self.ids[1]
        await _license(self.db, support, on_premises, "L-1")
        await _license(self.db, support, cloud, "L-2")
        production = await _environment(self.db, support, cloud, "Production")
        await _environment(self.db, support, cloud, "Acceptance")
        data = await gql(
            self.db,
            tess,
            GRANT,
            {
                "input": {
                    "environmentId": production,
                    "personId": pid(ann),
                    "rights": ["ACCESS_TO_MONITORING", "VIEW_LOGS"],
                }
            },
        )
        assert data["grantEnvironmentRights"]["userErrors"] == []
        self.ids.append(production)


@pytest.fixture(scope="module")
def rich() -> Iterator[World]:
    world = RichWorld(malformed=False)
    yield world
    world.loop.close()


@pytest.fixture
def reads() -> Iterator[list[Any]]:
    """The ``fields`` every apps read was asked for (None: the whole document)."""
    seen: list[Any] = []
    original = app_store._reading

    def spy(fields: Any) -> Any:
        seen.append(fields)
        return original(fields)

    app_store._reading = spy  # type: ignore[assignment]
    try:
        yield seen
    finally:
        app_store._reading = original  # type: ignore[assignment]


def assert_oracle(world: World, document: str, variables: dict[str, Any], viewer: Any) -> None:
    with fast.standard(), fast.whole_documents():
        expected = world.execute(document, variables, viewer)
    projected = world.execute(document, variables, viewer)
    assert _shape(projected) == _shape(expected), document
    with fast.standard():
        assert _shape(world.execute(document, variables, viewer)) == _shape(expected), document


@SETTINGS
@given(data=st.data())
def test_projected_reads_answer_like_whole_documents(rich: World, data: Any) -> None:
    document, variables = data.draw(documents(rich.ids))
    assert_oracle(rich, document, variables, rich.viewers[data.draw(st.integers(0, 2))])


ROOTS = [
    "apps(first: 100) {{ totalCount nodes {{ {} }} }}",
    "apps(last: 2) {{ edges {{ cursor node {{ {} }} }} pageInfo {{ hasNextPage }} }}",
    'app(id: "{{app}}") {{ {} }}',
    'node(id: "{{app}}") {{ id ... on App {{ {} }} }}',
    'nodes(ids: ["{{app}}", "{{other}}"]) {{ ... on Node {{ ... on App {{ {} }} }} }}',
]


@st.composite
def app_documents(draw: Any, ids: list[str], roots: int = 2) -> tuple[str, dict[str, bool]]:
    """Deeper selections on App under every apps root field (``documents`` starts at Query)."""
    doc = _Doc(draw, ids)
    chosen = draw(st.lists(st.sampled_from(ROOTS), min_size=1, max_size=roots))
    parts = []
    for index, root in enumerate(chosen):
        body = doc.fields(_GRAPHQL.type_map["App"], draw(st.integers(1, 4)))
        text = root.format(body).replace("{app}", draw(st.sampled_from(ids[:3])))
        parts.append(f"r{index}: " + text.replace("{other}", draw(st.sampled_from(ids))))
    declared = ", ".join(f"${name}: Boolean!" for name in doc.variables)
    head = f"query Q({declared})" if declared else "query Q"
    return "\n".join([f"{head} {{ {' '.join(parts)} }}", *doc.fragments]), doc.variables


@SETTINGS
@given(data=st.data())
def test_projected_app_selections_answer_like_whole_documents(rich: World, data: Any) -> None:
    document, variables = data.draw(app_documents(rich.ids))
    assert_oracle(rich, document, variables, rich.viewers[data.draw(st.integers(0, 2))])


@pytest.fixture(scope="module")
def spoiled() -> Iterator[World]:
    world = World(malformed=True)
    yield world
    world.loop.close()


@SETTINGS
@given(data=st.data())
def test_projected_reads_of_malformed_data(spoiled: World, data: Any) -> None:
    """Both execution paths still agree; where whole documents raise no error, neither do
    projected reads, and they answer alike (only selected fields can fail).

    One root field per document: when one root field's error nulls ``data`` while another
    root field's subtree failed too, the compiled path also reports the other error and
    standard execution does not (with whole documents as well; graph/fast's concern)."""
    document, variables = data.draw(app_documents(spoiled.ids, roots=1))
    viewer = spoiled.viewers[data.draw(st.integers(0, 2))]
    with fast.standard(), fast.whole_documents():
        whole = _shape(spoiled.execute(document, variables, viewer))
    with fast.standard():
        expected = _shape(spoiled.execute(document, variables, viewer))
    assert _shape(spoiled.execute(document, variables, viewer)) == expected, document
    if whole[1] is None:
        assert expected == whole, document


DASHBOARD = """
query ($skip: Boolean!) {
  apps(first: 100) {
    totalCount pageInfo { endCursor }
    edges { cursor node { id } }
    nodes {
      __typename name ...More @skip(if: $skip)
      technicalContacts { name } licenses { plan renewedBy }
      environments { name grants { right person { name } } app { subdomain } }
    }
  }
}
fragment More on Node { ... on App { version } }
"""


@pytest.mark.parametrize("skip", [False, True])
def test_the_dashboard_query_reads_what_it_selects(
    rich: World, reads: list[Any], skip: bool
) -> None:
    for viewer in rich.viewers:
        assert_oracle(rich, DASHBOARD, {"skip": skip}, viewer)
    version = set() if skip else {"version"}
    wanted = {"id", "name", "technical_contact_ids", "licenses", "hosting", "environments"}
    assert set(reads) == {frozenset({*wanted, "grants", "subdomain", *version}), None}
    assert reads.count(None) == 3  # the first (standard, whole documents) run per viewer


# --- what the store is asked for, and what it returns ------------------------------------

CASES = [
    ("{ apps { nodes { name technicalContacts { name } } } }", {"name", "technical_contact_ids"}),
    ("{ apps { totalCount pageInfo { hasNextPage } edges { cursor node { __typename } } } }", ()),
    (
        "{ apps { nodes { a: auditTrail { totalCount } b: alerts { totalCount } } } }",
        {"environments", "technical_contact_ids", "grants"},
    ),
    (
        "{ apps { edges { node { ...F } } } } fragment F on Node { id ... on App { region } }",
        {"region"},
    ),
    ("{ app(id: $APP) { ... { status } teamMembers { id } } }", {"status", "member_ids"}),
    ("{ node(id: $APP) { ... on App { hosting } ... on Person { email } } }", {"hosting"}),
    (
        "{ nodes(ids: [$APP]) { id ... on App { accountExecutive { id } } } }",
        {"account_executive_id"},
    ),
    (
        "{ apps { nodes { environments { viewerPermissions { canDeploy } } } } }",
        {"environments", "technical_contact_ids", "grants"},
    ),
]


@pytest.mark.parametrize(("document", "attributes"), CASES)
async def test_the_store_is_asked_for_the_selected_attributes(
    db: Any, support: PersonRecord, reads: list[Any], document: str, attributes: Any
) -> None:
    tess = await make_person(db, "tess@x.example", "Tess", mendix_id="tess-1")
    app = await create_app(db, support, tess)
    reads.clear()
    await gql(db, support, document.replace("$APP", f'"{app["id"]}"'))
    assert reads == [frozenset({"id", *attributes})]


async def test_an_undeclared_resolver_field_reads_the_whole_document(
    db: Any, support: PersonRecord, reads: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    tess = await make_person(db, "tess@x.example", "Tess", mendix_id="tess-1")
    await create_app(db, support, tess)
    licenses = schema._schema.type_map["App"].fields["licenses"]  # type: ignore[union-attr]
    field = licenses.extensions["strawberry-definition"]
    monkeypatch.setattr(field, "metadata", {})  # as if it declared nothing
    monkeypatch.setattr(projection, "CACHE", projection._Cache(projection.CACHE_SIZE))
    reads.clear()
    data = await gql(db, support, "{ apps { nodes { name licenses { plan } } } }")
    assert data["apps"]["nodes"][0]["licenses"] == []
    assert reads == [None]


async def test_projected_records_have_only_the_fields_read(
    db: Any, support: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    tess = await make_person(db, "tess@x.example", "Tess", mendix_id="tess-1")
    app = await create_app(db, support, tess)
    key = decode(app["id"], "App")
    returned: list[dict[str, Any]] = []
    collection = app_store._apps(db)

    class Spy:
        async def find_one(self, *args: Any) -> Any:
            doc = await collection.find_one(*args)
            returned.append(doc)
            return doc

    monkeypatch.setattr(app_store, "_apps", lambda _db: Spy())
    fields = frozenset({"id", "name", "member_ids"})
    record = await app_store.get_app(db, key, None, fields)
    assert returned[0] is not None and set(returned[0]) == {"_id", "name", "member_ids"}
    assert isinstance(record, AppRecord)
    assert type(record).model_fields.keys() == fields
    assert (record.id, record.name, record.member_ids) == (key, app["name"], (tess.id,))
    for unread in ("version", "region", "licenses"):  # required, defaulted, embedded
        with pytest.raises(AttributeError):
            getattr(record, unread)
    assert app_store.projected(frozenset({"name"})) is None  # id is always read
    assert app_store.projected(frozenset({"id", "nonsense"})) is None


async def test_pages_of_projected_records(
    db: Any, support: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    tess = await make_person(db, "tess@x.example", "Tess", mendix_id="tess-1")
    for _ in range(3):
        await create_app(db, support, tess)
    fields = frozenset({"id", "subdomain"})
    whole = await app_store.list_apps(db, {}, app_store.Window(first=2))
    projections: list[Any] = []
    collection = app_store._apps(db)

    class Spy:
        def find(self, query: Any, projection: Any = None) -> Any:
            projections.append(projection)
            return collection.find(query, projection)

        async def count_documents(self, query: Any) -> int:
            return int(await collection.count_documents(query))

    with monkeypatch.context() as patch:
        patch.setattr(app_store, "_apps", lambda _db: Spy())
        page = await app_store.list_apps(db, {}, app_store.Window(first=2), fields)
    assert projections == [{"_id": 1, "subdomain": 1}]
    assert page.keys == whole.keys and page.total_count == whole.total_count == 3
    assert page.has_next_page and [a.subdomain for a in page.items] == [
        a.subdomain for a in whole.items
    ]
    rest = await app_store.list_apps(db, {}, app_store.Window(first=2, after=page.keys[-1]), fields)
    assert len(rest.items) == 1 and not rest.has_next_page
    assert all(type(item).model_fields.keys() == fields for item in page.items + rest.items)


# --- malformed stored data ------------------------------------------------------------------

FULL = "{ apps { nodes { name version } } }"


async def _execute(db: Any, viewer: PersonRecord, document: str) -> tuple[Any, Any]:
    result = await schema.execute(
        document, context_value=Context(db=db, viewer=viewer, loaders=Loaders.create(db))
    )
    return _shape(result)


async def test_a_malformed_unselected_field_no_longer_fails_the_read(
    db: Any, support: PersonRecord
) -> None:
    tess = await make_person(db, "tess@x.example", "Tess", mendix_id="tess-1")
    app = await create_app(db, support, tess)
    await db.apps.update_one({}, {"$set": {"licenses": "garbage", "region": 7}})
    data, errors = await _execute(db, support, FULL)
    assert errors is None and data == {"apps": {"nodes": [{"name": app["name"], "version": 1}]}}
    with fast.whole_documents():
        data, errors = await _execute(db, support, FULL)
    assert data is None and [error["path"] for error in errors] == [["apps"]]


@pytest.mark.parametrize(
    "spoil", [{"$set": {"version": "three"}}, {"$unset": {"name": ""}}, {"$set": {"name": None}}]
)
async def test_a_malformed_selected_field_fails_as_before(
    db: Any, support: PersonRecord, spoil: dict[str, Any]
) -> None:
    tess = await make_person(db, "tess@x.example", "Tess", mendix_id="tess-1")
    app = await create_app(db, support, tess)
    await db.apps.update_one({}, spoil)
    for document in (FULL, f'{{ app(id: "{app["id"]}") {{ name version }} }}'):
        projected = await _execute(db, support, document)
        with fast.whole_documents():
            assert await _execute(db, support, document) == projected
        assert projected[1] is not None
    key = decode(app["id"], "App")
    with pytest.raises(ValidationError) as whole:
        await app_store.get_app(db, key)
    with pytest.raises(ValidationError) as projected_error:
        await app_store.get_app(db, key, None, frozenset({"id", "name", "version"}))
    shapes = [[(e["loc"], e["type"]) for e in x.value.errors()] for x in (projected_error, whole)]
    assert shapes[0] == shapes[1]
