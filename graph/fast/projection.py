"""Projections: the apps root fields read only the stored fields their selection needs.

A root resolver asks :func:`selected_attributes` (or :func:`connection_attributes`) which
record attributes the selection below it reads, and passes that set down to the store, which
fetches only those keys and validates them into a record with only those fields
(store/apps.py ``projected``). ``None`` means "read the whole document". Both execution paths
(standard and compiled, graph/fast/execution.py) complete the records the root resolver returns, so
they see the same records and answer alike.

What a field reads:
- a plain stored field (no resolver, no arguments) of the record's type: the attribute of
  the same python name; relay's ``id``: the NodeID attribute; ``__typename``: nothing;
- a resolver field: what it declares with ``metadata=reads(...)`` (or :func:`declare` for
  fields built by helpers). ``nested=True`` says its value carries the same record on
  (e.g. ``environments`` -> ``Environment.app``), so the selection below it is walked too:
  there, plain fields read the value the parent built and resolver fields declare again;
- anything else (a resolver field that declares nothing, ``@defer``, an unknown shape):
  ``None``. Forgetting a declaration makes a read slower, never wrong.

``whole_documents()`` (or ``OWNERSHIP_PROJECTIONS=0``) turns projections off: the
differential tests compare both.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType
from graphql.execution.collect_fields import FieldDetails, FragmentDetails, collect_subfields
from graphql.execution.values import VariableValues
from pydantic import BaseModel

from graph.fast.fields import node_id_attr
from graph.fast.switches import PROJECTIONS, READS

CACHE_SIZE = 256

Attributes = frozenset[str] | None


def _coerced(raw_info: Any) -> dict[str, Any]:
    """The coerced variables (strawberry hands resolvers the dict, graphql-core a container)."""
    values = raw_info.variable_values
    return values.coerced if isinstance(values, VariableValues) else values  # type: ignore[no-any-return]


def _named(rtype: Any) -> Any:
    while isinstance(rtype, GraphQLNonNull | GraphQLList):
        rtype = rtype.of_type
    return rtype


class _Walk:
    """One walk over a selection: what the record of ``record_type`` must provide."""

    def __init__(self, info: Any, record_type: GraphQLObjectType, model: type[BaseModel]):
        raw = info._raw_info
        self.info = raw
        self.fragments = {
            name: FragmentDetails(definition) for name, definition in raw.fragments.items()
        }
        self.variables = VariableValues({}, _coerced(raw))
        self.record_type = record_type
        self.model = model

    def subfields(self, otype: GraphQLObjectType, group: list[Any]) -> dict[str, Any] | None:
        info = self.info
        collected = collect_subfields(
            info.schema, self.fragments, self.variables, info.operation, otype, group
        )
        return None if collected.new_defer_usages else collected.grouped_field_set

    def object(self, otype: GraphQLObjectType, group: list[Any]) -> set[str] | None:
        """What the selection ``group`` on a value of ``otype`` reads from the record."""
        fields = self.subfields(otype, group)
        if fields is None:
            return None
        on_record = otype is self.record_type
        needed: set[str] = set()
        for subgroup in fields.values():
            name = subgroup[0].node.name.value
            if name == "__typename":
                continue
            field_def = otype.fields.get(name)
            field = (field_def.extensions or {}).get("strawberry-definition") if field_def else None
            if field is None or field.extensions:
                return None
            declared = (field.metadata or {}).get(READS)
            if declared is not None:
                attributes, nested = declared
                needed.update(attributes)
                if nested:
                    child = _named(field_def.type)
                    if not isinstance(child, GraphQLObjectType):
                        return None
                    below = self.object(child, subgroup)
                    if below is None:
                        return None
                    needed |= below
                continue
            if field.base_resolver is None and not field.arguments:
                if isinstance(_named(field_def.type), GraphQLObjectType):
                    return None  # an object held by a plain field: not walked, read it all
                attribute = field.python_name if on_record else None
            else:
                attribute = node_id_attr(otype, field_def)
                if attribute is None:
                    return None
                attribute = attribute if on_record else None
            if attribute is not None:
                if attribute not in self.model.model_fields:
                    return None
                needed.add(attribute)
        return needed


class _Cache:
    """Walk results by schema, the selection's field nodes (both kept alive with the entry,
    so their ids stay unique) and the variables ``@skip``/``@include`` use; bounded."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Any, tuple[Any, Attributes]] = OrderedDict()

    def get(self, key: Any) -> tuple[bool, Attributes]:
        entry = self.entries.get(key)
        if entry is None:
            return False, None
        self.entries.move_to_end(key)
        return True, entry[1]

    def put(self, key: Any, keep: Any, value: Attributes) -> None:
        self.entries[key] = (keep, value)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)


CACHE = _Cache(CACHE_SIZE)


def _directive_values(info: Any) -> tuple[Any, ...] | None:
    """The values of the variables ``@skip``/``@include`` read; None when unhashable."""
    coerced = _coerced(info)
    names = _directive_variables(info.operation, info.fragments)
    values = tuple(coerced.get(name) for name in names)
    try:
        hash(values)
    except TypeError:
        return None
    return values


_VARIABLES: OrderedDict[Any, tuple[str, ...]] = OrderedDict()


def _directive_variables(operation: Any, fragments: dict[str, Any]) -> tuple[str, ...]:
    """Names of the variables that ``@skip``/``@include`` read in the operation's document."""
    key = id(operation)
    entry = _VARIABLES.get(key)
    if entry is not None and entry[0] is operation:
        return entry[1]  # type: ignore[return-value]
    names: set[str] = set()

    def visit(node: Any) -> None:
        for directive in getattr(node, "directives", None) or ():
            if directive.name.value in ("skip", "include"):
                for argument in directive.arguments:
                    variable = getattr(argument.value, "name", None)
                    if variable is not None:
                        names.add(variable.value)
        selection_set = getattr(node, "selection_set", None)
        for child in selection_set.selections if selection_set else ():
            visit(child)

    for node in (operation, *fragments.values()):
        visit(node)
    found = tuple(sorted(names))
    _VARIABLES[key] = (operation, found)  # type: ignore[assignment]
    if len(_VARIABLES) > CACHE_SIZE:
        _VARIABLES.popitem(last=False)
    return found


def _cached(info: Any, kind: str, record_type: Any, compute: Any) -> Attributes:
    raw = info._raw_info
    values = _directive_values(raw)
    key = None
    if values is not None:
        key = (kind, id(raw.schema), record_type.name, tuple(map(id, raw.field_nodes)), values)
        found, attributes = CACHE.get(key)
        if found:
            return attributes
    attributes = compute()
    if key is not None:
        CACHE.put(key, (raw.schema, raw.field_nodes, raw.operation), attributes)
    return attributes


def _record_type(info: Any, type_name: str) -> GraphQLObjectType:
    otype = info._raw_info.schema.get_type(type_name)
    assert isinstance(otype, GraphQLObjectType)
    return otype


def _finish(needed: set[str] | None, model: type[BaseModel]) -> Attributes:
    if needed is None or "id" not in model.model_fields:
        return None
    return frozenset({"id", *needed})


def selected_attributes(info: Any, type_name: str, model: type[BaseModel]) -> Attributes:
    """What the field's selection reads of a ``type_name`` record (``model``); None: all.

    Serves fields returning the record's type directly and abstract fields (``node``) whose
    runtime type it is: fragments on other types do not apply.
    """
    if not PROJECTIONS.get():
        return None
    otype = _record_type(info, type_name)

    def compute() -> Attributes:
        group = [FieldDetails(node, None) for node in info._raw_info.field_nodes]
        return _finish(_Walk(info, otype, model).object(otype, group), model)

    return _cached(info, "object", otype, compute)


_PAGE_FIELDS = ("pageInfo", "totalCount", "__typename")


def connection_attributes(info: Any, type_name: str, model: type[BaseModel]) -> Attributes:
    """:func:`selected_attributes` for a connection (graph/connections.py) of such records:
    ``nodes`` and ``edges { node }``; cursors, ``pageInfo`` and ``totalCount`` need only keys."""
    if not PROJECTIONS.get():
        return None
    otype = _record_type(info, type_name)

    def compute() -> Attributes:
        walk = _Walk(info, otype, model)
        connection = _named(info._raw_info.return_type)
        group = [FieldDetails(node, None) for node in info._raw_info.field_nodes]
        fields = walk.subfields(connection, group)
        if fields is None:
            return None
        needed: set[str] = set()
        for subgroup in fields.values():
            name = subgroup[0].node.name.value
            if name in _PAGE_FIELDS:
                continue
            if name == "nodes":
                below = walk.object(otype, subgroup)
            elif name == "edges":
                below = _edges(walk, _named(connection.fields[name].type), subgroup, otype)
            else:
                below = None
            if below is None:
                return None
            needed |= below
        return _finish(needed, model)

    return _cached(info, "connection", otype, compute)


def _edges(walk: _Walk, edge: Any, group: list[Any], otype: Any) -> set[str] | None:
    fields = walk.subfields(edge, group)
    if fields is None:
        return None
    needed: set[str] = set()
    for subgroup in fields.values():
        name = subgroup[0].node.name.value
        if name in ("cursor", "__typename"):
            continue
        if name != "node":
            return None
        below = walk.object(otype, subgroup)
        if below is None:
            return None
        needed |= below
    return needed
