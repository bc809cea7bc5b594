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
field, which produces exactly the standard value or error. Fields declared with
``loads(...)`` metadata (a resolver that only loads stored keys through a DataLoader) are
loaded for the whole page in one batch per loader. If anything below the root fields
raises an error, the operation is executed again the standard way and that response is
returned: a response with errors always comes from standard execution. Root resolvers
(authorization, scoping, pagination, filters) run unchanged. tests/graph/test_fast.py checks
all this differentially and pins the versions it was verified against.
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
from types import CoroutineType, GeneratorType
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
        self.reruns = 0

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


LOADS = "fast_reads.loads"


def loads(attribute: str, loader: str, *, many: bool) -> dict[str, Any]:
    """Field metadata declaring a resolver that only loads stored keys through a DataLoader.

    ``many=True`` declares exactly ``[x for x in await info.context.loaders.<loader>
    .load_many(list(root.<attribute>)) if x is not None]``; ``many=False`` declares ``None if
    root.<attribute> is None else await info.context.loaders.<loader>.load(root.<attribute>)``.
    The compiled path then runs that load itself (same loader, same batching, same error
    handling) instead of calling the resolver; the differential tests hold it to the
    resolver's results.
    """
    return {LOADS: (attribute, loader, many)}


def _load_spec(field_def: Any) -> tuple[str, str, bool] | None:
    field = _strawberry_field(field_def)
    if field is None or field.extensions or field.arguments or field_def.args:
        return None
    spec = (field.metadata or {}).get(LOADS)
    if spec is None or not all(part.isidentifier() for part in spec[:2]):
        return None
    return spec  # type: ignore[no-any-return]


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


def _enum_table(enum_type: GraphQLEnumType) -> tuple[type, dict[Any, Any]] | None:
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
            load = _load_spec(field_def)
            if load is not None and comp is not None:
                lines += self.load_lines(load, rtype, group, comp, key, fpath, delegate)
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
                "    if type(r) is not dict and type(r) is not list and ex.is_awaitable(r):",
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

    def load_lines(
        self, load: Any, rtype: Any, group: Any, comp: Any, key: str, fpath: str, delegate: Any
    ) -> list[str]:
        """Loaded references are batched: registered here, loaded and completed by _drain."""
        attr, loader, many = load
        entry = f"({loader!r}, {many}, x, d, {key}, {self.name('C', comp)}, {fpath})"
        lines = ["try:", f"    x = v.{attr}", "except Exception:", "    x = MISSING"]
        if many:
            lines += ["if type(x) is tuple or type(x) is list:"]
        elif not isinstance(rtype, GraphQLNonNull):
            lines += ["if x is None:", f"    d[{key}] = None", "elif x is not MISSING:"]
        else:
            lines += ["if x is not None and x is not MISSING:"]
        lines += [f"    d[{key}] = None", f"    ex._loads.append({entry})"]
        lines += ["else:"] + ["    " + line for line in delegate]
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
            kind = type(item)
            if kind not in _PLAIN and _awaitable_kind(ex, item):
                return slow(ex, value, path, fpath)  # standard completion awaits items first
        results: list[Any] = []
        pending: list[int] | None = None
        try:
            for index, item in enumerate(value):
                item_path = Path(path, index, None)
                try:
                    completed = inner(ex, item, item_path, fpath)
                    kind = type(completed)
                    if kind is not dict and kind is not list and is_awaitable(completed):
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


_PLAIN: set[type] = {dict, str, int, float, bool, type(None), ObjectId, datetime}


def _awaitable_kind(ex: Any, item: Any) -> bool:
    """Whether ``item`` is awaitable; types that never are get remembered in _PLAIN."""
    if ex.is_awaitable(item):
        return True
    kind = type(item)
    if (
        not hasattr(kind, "__await__")
        and not isinstance(item, GeneratorType | CoroutineType)
        and len(_PLAIN) < 1000
    ):
        _PLAIN.add(kind)
    return False


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


async def _drain(ex: Any, result: Any, loads: list[Any]) -> Any:
    """Load every registered reference in one batch per loader and round, then complete.

    Any error here marks the operation for a standard re-run (see FastExecutionContext).
    """
    if ex.is_awaitable(result):
        result = await result
    while loads:
        batch = loads[:]
        loads.clear()
        keys: dict[str, list[Any]] = {}
        for loader, many, value, *_rest in batch:
            keys.setdefault(loader, []).extend(value if many else (value,))
        found: dict[str, dict[Any, Any]] = {}
        try:
            for loader, wanted in keys.items():
                unique = list(dict.fromkeys(wanted))
                records = await getattr(ex.context_value.loaders, loader).load_many(unique)
                found[loader] = dict(zip(unique, records, strict=True))
        except Exception as error:
            for _loader, _many, _value, _d, _key, _complete, path in batch:
                ex.mark_dirty(error, path)
            return result
        pending = []
        previous, ex._loads = ex._loads, loads
        try:
            for loader, many, value, d, key, complete, path in batch:
                records = found[loader]
                if many:
                    got = [records[k] for k in value]
                    item = [record for record in got if record is not None]
                else:
                    item = records[value]
                try:
                    completed = complete(ex, item, path, path)
                except Exception as error:
                    ex.mark_dirty(error, path)
                    completed = None
                if type(completed) is not list and ex.is_awaitable(completed):
                    pending.append((d, key, completed))
                d[key] = completed
        finally:
            ex._loads = previous
        for d, key, completed in pending:
            try:
                d[key] = await completed
            except Exception as error:
                ex.mark_dirty(error, None)
                d[key] = None
    return result


async def _await_item(ex: Any, completed: Any, item_type: Any, group: Any, path: Any) -> Any:
    try:
        return await completed
    except Exception as error:
        ex.handle_field_error(error, item_type, group, path)
        return None


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with compiled completion of stored fields for queries."""

    _plan: Plan | None = None
    _loads: list[Any] | None = None
    _dirty: bool = False
    _standard: bool = False

    def execute_operation(self, serially: bool | None = None) -> Any:
        """Run the operation; when a compiled region met any error, run it the standard way.

        Errors below the root fields are rare (malformed data, failing loads), and
        queries only read, so rather than mirror every detail of error propagation and
        error order the compiled path answers only error-free completions itself.
        """
        result = super().execute_operation(serially)
        if self._plan is None:
            return result
        if self.is_awaitable(result):

            async def checked() -> Any:
                outcome = await result
                if not self._dirty:
                    return outcome
                rerun = self._rerun()
                return await rerun if self.is_awaitable(rerun) else rerun

            return checked()
        if self._dirty:
            return self._rerun()
        return result

    def _rerun(self) -> Any:
        PLANS.reruns += 1
        fresh = self.create_sub_executor(None)
        fresh._plan = None
        fresh._standard = True
        fresh._dirty = False
        fresh._relevant_sub_fields = {}
        return fresh.execute_operation()

    def handle_field_error(self, raw_error: Any, return_type: Any, group: Any, path: Any) -> None:
        if self._plan is not None and path is not None and path.prev is not None:
            self._dirty = True
        super().handle_field_error(raw_error, return_type, group, path)

    def mark_dirty(self, _error: Exception, _path: Any) -> None:
        self._dirty = True

    def _find_plan(self, root_type: GraphQLObjectType) -> Plan | None:
        operation = self.operation
        if self._standard or not _ENABLED.get() or operation.operation != OperationType.QUERY:
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
                previous, self._loads = self._loads, []
                try:
                    completed = entry[1](self, result, path, path)
                    loads = self._loads
                finally:
                    self._loads = previous
                return _drain(self, completed, loads) if loads else completed
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )
