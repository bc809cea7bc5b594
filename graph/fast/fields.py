"""What the compiled read path may read itself: stored fields, relay ids, enums,
loaded references (``loads``), and the small schema helpers the compiler needs."""

from __future__ import annotations

import builtins
from datetime import datetime
from enum import Enum
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)
from graphql.pyutils import Undefined
from strawberry import relay

from graph.fast.switches import LOADS


def strawberry_field(field_def: Any) -> Any:
    return (field_def.extensions or {}).get("strawberry-definition")


def is_plain(field_def: Any) -> bool:
    """A stored field: strawberry's basic-field resolver (getattr), nothing around it."""
    resolve = field_def.resolve
    field = strawberry_field(field_def)
    return (
        resolve is not None
        and getattr(resolve, "_is_default", False) is True
        and field is not None
        and field.base_resolver is None
        and not field.extensions
        and not field.arguments
        and not field_def.args
        and field.default_resolver is builtins.getattr
        and field.python_name.isidentifier()
    )


def direct_resolver(schema: Any, field_def: Any) -> Any | None:
    """For a synchronous resolver that takes nothing but its parent (``self`` and/or a
    ``strawberry.Parent``/root parameter: no info, no arguments, no extensions), a function
    ``source -> value`` calling it exactly as strawberry does; None for any other field.

    Such a resolver can only compute from its parent (it has no context to read): the views
    over embedded values (``App.licenses``, ``App.environments``, ``Environment.grants``...).
    The compiled path calls it itself; if it raises, the field is resolved again the
    standard way, which raises the same error."""
    field = strawberry_field(field_def)
    if field is None or field_def.args or field.extensions or field.arguments:
        return None
    resolver = field.base_resolver
    if resolver is None or field.is_async or resolver.is_async:
        return None
    if resolver.info_parameter is not None or resolver.arguments:
        return None
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    converter = getattr(strawberry_schema, "schema_converter", None)
    if converter is None or getattr(converter, "_exception_handler_specs", True):
        return None  # exception handlers may turn errors into values: standard way
    takes_self = resolver.self_parameter is not None
    names = [
        parameter.name
        for parameter in (resolver.parent_parameter, resolver.root_parameter)
        if parameter is not None
    ]

    def call(source: Any) -> Any:
        kwargs = {name: source for name in names}
        return resolver(source, **kwargs) if takes_self else resolver(**kwargs)

    return call


def load_spec(field_def: Any) -> tuple[str, str, bool] | None:
    field = strawberry_field(field_def)
    if field is None or field.extensions or field.arguments or field_def.args:
        return None
    spec = (field.metadata or {}).get(LOADS)
    if spec is None or not all(part.isidentifier() for part in spec[:2]):
        return None
    return spec  # type: ignore[no-any-return]


def node_id_attr(parent: GraphQLObjectType, field_def: Any) -> str | None:
    """The NodeID attribute when ``field_def`` is relay's default ``id`` resolver."""
    field = strawberry_field(field_def)
    if field is None or field.base_resolver is None or field.extensions or field.arguments:
        return None
    wrapped = getattr(field.base_resolver, "wrapped_func", None)
    if getattr(wrapped, "__func__", None) is not relay.Node._id.__func__:  # type: ignore[attr-defined]
        return None
    definition = (parent.extensions or {}).get("strawberry-definition")
    origin = getattr(definition, "origin", None)
    if origin is None or not issubclass(origin, relay.Node):
        return None
    node_resolve_id = relay.Node.resolve_id.__func__  # type: ignore[attr-defined]
    node_resolve_typename = relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
    if (
        origin.resolve_id.__func__ is not node_resolve_id
        or origin.resolve_typename.__func__ is not node_resolve_typename
    ):
        return None
    try:
        attr = origin.resolve_id_attr()
    except Exception:
        return None
    return attr if attr.isidentifier() else None


def _probe() -> Any:
    from graph.nodes import record_node

    return record_node(object, None)[0].__func__.__code__  # type: ignore[arg-type]


def record_type(otype: GraphQLObjectType) -> type | None:
    """The record class when ``is_type_of`` is graph/nodes.py ``record_node``'s
    ``isinstance(obj, record_type)``: then an object of exactly that class passes it."""
    function = getattr(otype.is_type_of, "__func__", None)
    code = getattr(function, "__code__", None)
    if code is None or code is not _probe() or function.__closure__ is None:  # type: ignore[union-attr]
        return None
    cells = dict(zip(code.co_freevars, function.__closure__, strict=True))  # type: ignore[union-attr]
    found = cells["record_type"].cell_contents
    if not isinstance(found, type) or type(found).__instancecheck__ is not type.__instancecheck__:
        return None
    return found


def enum_table(enum_type: GraphQLEnumType) -> tuple[type, dict[Any, Any]] | None:
    """Python enum class and member -> output value, as the type's own coercion gives."""
    definition = (enum_type.extensions or {}).get("strawberry-definition")
    cls = getattr(definition, "wrapped_cls", None)
    if not isinstance(cls, type) or not issubclass(cls, Enum):
        return None
    table = {}
    for member in cls:
        try:
            coerced = enum_type.coerce_output_value(member)
        except Exception:
            continue  # not representable: left to the standard completion (an error)
        if coerced is not None and coerced is not Undefined:
            table[member] = coerced
    return cls, table


def root_names(fields: Any) -> list[str]:
    return [group[0].node.name.value for group in fields.values()]


def field_def_name(group: Any) -> str:
    return group[0].node.name.value


def named_type(rtype: Any) -> Any:
    while isinstance(rtype, GraphQLNonNull | GraphQLList):
        rtype = rtype.of_type
    return rtype


def is_isoformat(scalar: GraphQLScalarType) -> bool:
    sample = datetime(2001, 2, 3, 4, 5, 6, 7000)
    try:
        return scalar.coerce_output_value(sample) == sample.isoformat()
    except Exception:
        return False
