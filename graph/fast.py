"""The compiled read path: stored fields completed by generated code, identical results.

Standard execution spends a few microseconds and dozens of calls on every returned value.
For query operations this executor compiles the validated selection once (cached by the
document, the operation and the variables that affect ``@skip``/``@include``; bounded) into
Python functions that complete the values the root resolvers return: plain stored fields
(strawberry fields without resolver, arguments, extensions or permissions, read with
``getattr`` like strawberry's basic-field resolver), ``__typename``, relay ``id`` fields,
enums, scalars, nested objects and lists are built inline.

Everything else is *declined field by field*: resolver fields (loaded people, connections
with arguments, ...), abstract types and introspection run through graphql-core's own
``execute_field``; any value the generated code did not expect (a null in a non-null field,
a wrong type, a failing ``is_type_of``) is handed back to the standard completion for that
field, which produces exactly the standard value or error. Root resolvers (authorization,
scoping, pagination, filters) run unchanged. The structure of the generated code mirrors
graphql-core 3.3.2's executor (error handling, awaitable gathering, settling in the
background) so errors are the same and arrive in the same order; tests/graph/test_fast.py
checks it differentially and pins the versions it was verified against.
"""

from __future__ import annotations

import base64
import builtins
import logging
import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from enum import Enum
from typing import Any

from bson import ObjectId
from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    OperationType,
    is_abstract_type,
)
from graphql.execution.collect_fields import collect_fields, collect_subfields
from graphql.execution.executor import Executor, to_nodes
from graphql.language import DirectiveNode, Visitor, visit
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry import relay
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

log = logging.getLogger(__name__)

VERIFIED_WITH = {"graphql-core": "3.3.2", "strawberry-graphql": "0.341.2"}
PLAN_CACHE_SIZE = 256

_ENABLED: ContextVar[bool] = ContextVar(
    "fast_reads", default=os.environ.get("OWNERSHIP_FAST_READS", "1") != "0"
)
_MISSING = object()


@contextmanager
def standard() -> Iterator[None]:
    """Run the block (and tasks it starts) with standard execution only."""
    token = _ENABLED.set(False)
    try:
        yield
    finally:
        _ENABLED.reset(token)


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class _VarCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
        if node.name.value in ("skip", "include"):
            for argument in node.arguments or ():
                value = argument.value
                if value.kind == "variable":
                    self.names.add(value.name.value)  # type: ignore[attr-defined]


def _directive_variables(document: Any) -> tuple[str, ...]:
    collector = _VarCollector()
    visit(document, collector)
    return tuple(sorted(collector.names))


class Plan:
    """One compiled operation: root fields and completers keyed by field group identity."""

    def __init__(self, root_fields: Any) -> None:
        self.root_fields = root_fields
        self.completers: dict[int, tuple[Any, Any]] = {}
        self.keep: list[Any] = []  # field groups stay alive: their ids key ``completers``


class _PlanCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self.plans: OrderedDict[Any, Plan | None] = OrderedDict()
        self.variables: OrderedDict[Any, tuple[str, ...]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def _put(self, table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        table[key] = value
        if len(table) > self.size:
            table.popitem(last=False)

    def clear(self) -> None:
        self.plans.clear()
        self.variables.clear()


PLANS = _PlanCache(PLAN_CACHE_SIZE)


def _strawberry_field(field_def: Any) -> Any:
    return (field_def.extensions or {}).get("strawberry-definition")


def _is_plain(field_def: Any) -> bool:
    """A stored field: strawberry's basic-field resolver (getattr), nothing around it."""
    resolve = field_def.resolve
    field = _strawberry_field(field_def)
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


def _node_id_attr(parent: GraphQLObjectType, field_def: Any) -> str | None:
    """The NodeID attribute when ``field_def`` is relay's default ``id`` resolver."""
    field = _strawberry_field(field_def)
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


def _enum_table(enum_type: GraphQLEnumType) -> tuple[type, dict[Any, str]] | None:
    """Python enum class and member -> serialized name, as the type's own coercion gives."""
    values = [value.value for value in enum_type.values.values()]
    classes = {type(value) for value in values}
    if len(classes) != 1:
        return None
    (cls,) = classes
    if not issubclass(cls, Enum):
        return None
    table = {}
    for value in values:
        try:
            table[value] = enum_type.coerce_output_value(value)
        except Exception:
            return None
    return cls, table


class _Compiler:
    """Generates the completers of one plan from field groups and the schema."""

    def __init__(self, executor: Executor, plan: Plan) -> None:
        self.ex = executor
        self.plan = plan
        self.lines: list[str] = []
        self.env: dict[str, Any] = {
            "Path": Path,
            "Undefined": Undefined,
            "ObjectId": ObjectId,
            "datetime": datetime,
            "str": str,
            "int": int,
            "bool": bool,
            "float": float,
            "type": type,
            "isinstance": isinstance,
            "Exception": Exception,
            "b64": base64.b64encode,
            "Node": relay.Node,
            "MISSING": _MISSING,
            "await_completed": _await_completed,
            "gather_object": _gather_object,
            "INT_MIN": _INT_MIN,
            "INT_MAX": _INT_MAX,
        }
        self.count = 0

    def name(self, prefix: str, value: Any) -> str:
        self.count += 1
        key = f"{prefix}{self.count}"
        self.env[key] = value
        return key

    # Completers: callables ``(ex, value, path, field_path)`` mirroring ``complete_value``.

    def completer(
        self, rtype: Any, group: Any, parent: GraphQLObjectType, field_def: Any
    ) -> Any | None:
        """A completer for ``rtype`` or None when the standard completion must do it."""
        slow = _slow(rtype, group, parent, field_def)
        if isinstance(rtype, GraphQLNonNull):
            inner = self.completer(rtype.of_type, group, parent, field_def)
            if inner is None:
                return None
            message = f"Cannot return null for non-nullable field {parent}.{field_def_name(group)}."
            return _non_null(inner, message)
        if isinstance(rtype, GraphQLList):
            item_type = rtype.of_type
            inner = self.completer(item_type, group, parent, field_def)
            if inner is None:
                return None
            return _list(inner, item_type, group, slow)
        if isinstance(rtype, GraphQLObjectType):
            return self.object_completer(rtype, group, slow)
        if is_abstract_type(rtype):
            return None
        return _leaf(rtype, slow)

    def object_completer(self, otype: GraphQLObjectType, group: Any, slow: Any) -> Any:
        ex = self.ex
        fields, _defer, _forbidden = collect_subfields(
            ex.schema,
            ex.fragments,
            ex.variable_values,
            ex.operation,
            otype,
            group,
            ex.hide_suggestions,
        )
        body = self.object_body(otype, fields)
        fn_name = f"obj{self.count + 1}_{otype.name}"
        self.count += 1
        source = [
            f"def {fn_name}(ex, v, path, fpath):",
            "    if v is None:",
            "        return None",
            "    if isinstance(v, Exception):",
            "        return SLOW(ex, v, path, fpath)",
        ]
        if otype.is_type_of is not None:
            source += [
                "    try:",
                "        ok = ITO(v, None)",
                "    except Exception:",
                "        ok = False",
                "    if ok is not True:",
                "        return SLOW(ex, v, path, fpath)",
            ]
        source += ["    d = {}", "    aw = None", "    try:"]
        source += ["        " + line for line in body or ["pass"]]
        source += [
            "    except Exception:",
            "        if aw:",
            "            ex.settle_in_background([d[k] for k in aw])",
            "        raise",
            "    if aw is None:",
            "        return d",
            "    return gather_object(d, aw)",
        ]
        env = dict(self.env)
        env["SLOW"] = slow
        env["ITO"] = otype.is_type_of
        exec("\n".join(source), env)
        return env[fn_name]

    def object_body(self, otype: GraphQLObjectType, fields: Any) -> list[str]:
        lines: list[str] = []
        schema = self.ex.schema
        tname = otype.name
        for response_name, group in fields.items():
            self.plan.keep.append(group)
            key = repr(response_name)
            field_name = group[0].node.name.value
            g = self.name("G", group)
            fpath = f"Path(path, {key}, {tname!r})"
            if field_name == "__typename":
                lines.append(f"d[{key}] = {tname!r}")
                continue
            field_def = schema.get_field(otype, field_name)
            if field_def is None:
                continue  # graphql-core skips unknown fields too (validation forbids them)
            rtype = field_def.type
            ot = self.name("OT", otype)
            delegate = [
                f"r = ex.execute_field({ot}, v, {g}, {fpath}, None)",
                "if r is not Undefined:",
                f"    d[{key}] = r",
                "    if ex.is_awaitable(r):",
                "        if aw is None:",
                "            aw = []",
                f"        aw.append({key})",
            ]
            # Composite results of any field (plain or resolver) get compiled completion.
            comp = self.completer(rtype, group, otype, field_def)
            if comp is not None:
                self.plan.completers[id(group)] = (rtype, comp)
            id_attr = _node_id_attr(otype, field_def)
            if id_attr is not None and _named(rtype) is schema.get_type("ID"):
                lines += [
                    "try:",
                    f"    x = v.{id_attr}",
                    "except Exception:",
                    "    x = MISSING",
                    "if (type(x) is ObjectId or type(x) is str) and not isinstance(v, Node):",
                    f"    d[{key}] = b64(f'{tname}:{{x}}'.encode()).decode()",
                    "else:",
                ]
                lines += ["    " + line for line in delegate]
                continue
            if not _is_plain(field_def):
                lines += delegate
                continue
            attr = _strawberry_field(field_def).python_name
            named = _named(rtype)
            if isinstance(named, GraphQLScalarType | GraphQLEnumType):
                check = self.leaf_check(rtype)
                if check is None:
                    lines += delegate
                    continue
                test, value = check
                lines += [
                    "try:",
                    f"    x = v.{attr}",
                    "except Exception:",
                    "    x = MISSING",
                    f"if {test}:",
                    f"    d[{key}] = {value}",
                    "else:",
                ]
                lines += ["    " + line for line in delegate]
                continue
            if comp is None:
                lines += delegate
                continue
            c = self.name("C", comp)
            rt = self.name("RT", rtype)
            lines += [
                f"fp = {fpath}",
                "try:",
                f"    x = v.{attr}",
                "except Exception:",
                "    x = MISSING",
                "if x is MISSING or ex.is_awaitable(x):",
            ]
            lines += ["    " + line for line in delegate]
            lines += [
                "else:",
                "  try:",
                f"    r = {c}(ex, x, fp, fp)",
                "    if ex.is_awaitable(r):",
                f"        r = await_completed(ex, r, {rt}, {g}, fp)",
                "        if aw is None:",
                "            aw = []",
                f"        aw.append({key})",
                "  except Exception as error:",
                f"    ex.handle_field_error(error, {rt}, {g}, fp)",
                "    r = None",
                f"  d[{key}] = r",
            ]
        return lines

    def leaf_check(self, rtype: Any) -> tuple[str, str] | None:
        """(test, value) in terms of ``x`` for values whose standard result is known."""
        nullable = not isinstance(rtype, GraphQLNonNull)
        named = _named(rtype)
        if isinstance(named, GraphQLList) or isinstance(rtype, GraphQLList):
            return None
        if isinstance(rtype, GraphQLNonNull) and isinstance(rtype.of_type, GraphQLList):
            return None
        test: str
        value = "x"
        if isinstance(named, GraphQLEnumType):
            found = _enum_table(named)
            if found is None:
                return None
            cls, table = found
            e, t = self.name("E", cls), self.name("T", table)
            test, value = f"type(x) is {e} and x in {t}", f"{t}[x]"
        elif named is GraphQLString:
            test = "type(x) is str"
        elif named is GraphQLInt:
            test = "type(x) is int and INT_MIN <= x <= INT_MAX"
        elif named is GraphQLBoolean:
            test = "type(x) is bool"
        elif named.name == "DateTime" and _is_isoformat(named):
            test, value = "type(x) is datetime", "x.isoformat()"
        else:
            return None
        if nullable:
            test = f"x is None or {test}"
            value = f"None if x is None else {value}" if value != "x" else "x"
        return test, value


def _root_names(fields: Any) -> list[str]:
    return [group[0].node.name.value for group in fields.values()]


def field_def_name(group: Any) -> str:
    return group[0].node.name.value


def _named(rtype: Any) -> Any:
    while isinstance(rtype, GraphQLNonNull | GraphQLList):
        rtype = rtype.of_type
    return rtype


def _is_isoformat(scalar: GraphQLScalarType) -> bool:
    sample = datetime(2001, 2, 3, 4, 5, 6, 7000)
    try:
        return scalar.coerce_output_value(sample) == sample.isoformat()
    except Exception:
        return False


def _slow(rtype: Any, group: Any, parent: GraphQLObjectType, field_def: Any) -> Any:
    """The standard completion of one value, with the info standard execution would build."""

    def slow(ex: Any, value: Any, path: Any, fpath: Any) -> Any:
        info = ex.build_resolve_info(field_def, to_nodes(group), parent, fpath)
        return Executor.complete_value(ex, rtype, group, info, path, value, None)

    return slow


def _non_null(inner: Any, message: str) -> Any:
    def complete(ex: Any, value: Any, path: Any, fpath: Any) -> Any:
        completed = inner(ex, value, path, fpath)
        if completed is None:
            raise TypeError(message)
        return completed

    return complete


def _leaf(rtype: Any, slow: Any) -> Any:
    coerce = rtype.coerce_output_value

    def complete(ex: Any, value: Any, path: Any, fpath: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None:
            return None
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            return slow(ex, value, path, fpath)  # raises the standard TypeError
        return coerced

    return complete


def _list(inner: Any, item_type: Any, group: Any, slow: Any) -> Any:
    """Mirrors ``complete_list_value`` / ``complete_iterable_value`` for lists and tuples."""

    def complete(ex: Any, value: Any, path: Any, fpath: Any) -> Any:
        if value is None:
            return None
        kind = type(value)
        if kind is not list and kind is not tuple:
            return slow(ex, value, path, fpath)
        is_awaitable = ex.is_awaitable
        for item in value:
            if is_awaitable(item):  # standard completion awaits such items first
                return slow(ex, value, path, fpath)
        results: list[Any] = []
        pending: list[int] | None = None
        try:
            for index, item in enumerate(value):
                item_path = Path(path, index, None)
                try:
                    completed = inner(ex, item, item_path, fpath)
                    if is_awaitable(completed):
                        completed = _await_item(ex, completed, item_type, group, item_path)
                        if pending is None:
                            pending = []
                        pending.append(index)
                except Exception as error:
                    ex.handle_field_error(error, item_type, group, item_path)
                    completed = None
                results.append(completed)
        except Exception:
            if pending:
                ex.settle_in_background([results[index] for index in pending])
            raise
        if pending is None:
            return results
        return _gather_list(results, pending)

    return complete


async def _gather_list(results: list[Any], pending: list[int]) -> list[Any]:
    if len(pending) == 1:
        index = pending[0]
        results[index] = await results[index]
    else:
        awaited = await gather_with_cancel(*(results[index] for index in pending))
        for index, value in zip(pending, awaited, strict=True):
            results[index] = value
    return results


async def _gather_object(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    if len(pending) == 1:
        key = pending[0]
        results[key] = await results[key]
    else:
        awaited = await gather_with_cancel(*(results[key] for key in pending))
        results.update(zip(pending, awaited, strict=True))
    return results


async def _await_completed(ex: Any, completed: Any, rtype: Any, group: Any, path: Any) -> Any:
    try:
        return await completed
    except Exception as error:
        ex.handle_field_error(error, rtype, group, path)
        return None


async def _await_item(ex: Any, completed: Any, item_type: Any, group: Any, path: Any) -> Any:
    try:
        return await completed
    except Exception as error:
        ex.handle_field_error(error, item_type, group, path)
        return None


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with compiled completion of stored fields for queries."""

    _plan: Plan | None = None

    def _find_plan(self, root_type: GraphQLObjectType) -> Plan | None:
        operation = self.operation
        if not _ENABLED.get() or operation.operation != OperationType.QUERY:
            return None
        if operation.loc is None:
            return None
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return None
        if self.enable_early_execution or self.abort_signal is not None:
            return None
        document_key = (id(self.schema), operation.loc.source.body, operation.loc.start)
        names = PLANS.variables.get(document_key)
        if names is None:
            names = _directive_variables(operation)
            for fragment in self.fragment_definitions.values():
                names = tuple(sorted({*names, *_directive_variables(fragment)}))
            PLANS._put(PLANS.variables, document_key, names)
        coerced = self.variable_values.coerced
        try:
            key = (document_key, tuple(coerced.get(name, _MISSING) for name in names))
            hash(key)
        except TypeError:
            return None
        if key in PLANS.plans:
            PLANS.hits += 1
            PLANS.plans.move_to_end(key)
            return PLANS.plans[key]
        PLANS.misses += 1
        try:
            plan = self._compile(root_type)
        except Exception:  # a gap in the compiler must never fail a request: decline
            log.exception("compiling a read plan failed; standard execution serves it")
            plan = None
        PLANS._put(PLANS.plans, key, plan)
        return plan

    def _compile(self, root_type: GraphQLObjectType) -> Plan | None:
        fields, new_defer_usages, _forbidden = collect_fields(
            self.schema,
            self.fragments,
            self.variable_values,
            root_type,
            self.operation,
            self.hide_suggestions,
        )
        if new_defer_usages or any(name in ("__schema", "__type") for name in _root_names(fields)):
            return None  # introspection runs the standard way
        plan = Plan(fields)
        compiler = _Compiler(self, plan)
        for group in fields.values():
            plan.keep.append(group)
            field_def = self.schema.get_field(root_type, group[0].node.name.value)
            if field_def is None:
                continue
            completer = compiler.completer(field_def.type, group, root_type, field_def)
            if completer is not None:
                plan.completers[id(group)] = (field_def.type, completer)
        return plan if plan.completers else None

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: Any,
        serially: bool,
        new_defer_usages: Any,
    ) -> Any:
        if not new_defer_usages:
            plan = self._find_plan(root_type)
            if plan is not None:
                self._plan = plan
                grouped_field_set = plan.root_fields
        return super().execute_collected_root_fields(
            root_type, root_value, grouped_field_set, serially, new_defer_usages
        )

    def complete_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan
        if plan is not None:
            entry = plan.completers.get(id(field_details_list))
            if entry is not None and entry[0] is return_type:
                return entry[1](self, result, path, path)
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )
