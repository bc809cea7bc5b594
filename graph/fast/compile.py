"""The compiler: generated Python functions completing one selection on one object
type, from the field groups graphql-core collects and the schema's strawberry metadata."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
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
    is_abstract_type,
)
from graphql.execution.collect_fields import collect_subfields
from graphql.execution.executor import Executor
from graphql.language import DirectiveNode, Visitor, visit
from graphql.pyutils import Path, Undefined
from strawberry import relay

from graph.fast.fields import (
    direct_resolver,
    enum_table,
    field_def_name,
    is_isoformat,
    is_plain,
    load_spec,
    named_type,
    node_id_attr,
    record_type,
    strawberry_field,
)
from graph.fast.runtime import (
    await_completed,
    fill_rest,
    gather_object,
    id_encoder,
    leaf_completer,
    list_completer,
    non_null_completer,
    real,
    slow_completer,
)

MISSING = object()
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


def directive_variables(document: Any) -> tuple[str, ...]:
    collector = _VarCollector()
    visit(document, collector)
    return tuple(sorted(collector.names))


class Plan:
    """One compiled operation: root fields and completers keyed by field group identity."""

    def __init__(self, root_fields: Any) -> None:
        self.root_fields = root_fields
        self.completers: dict[int, tuple[Any, Any]] = {}
        self.keep: list[Any] = []  # field groups stay alive: their ids key ``completers``


class Compiler:
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
            "b2a": binascii.b2a_base64,
            "real": real,
            "Node": relay.Node,
            "MISSING": MISSING,
            "await_completed": await_completed,
            "gather_object": gather_object,
            "INT_MIN": _INT_MIN,
            "INT_MAX": _INT_MAX,
        }
        self.count = 0
        # fast object functions that only read and build: id -> (function, their parts)
        self.pure: dict[str, Any] = {}
        self.pure_parts: dict[int, tuple[Any, Any]] = {}
        # ... and those that only read, build and register loads
        self.flat: dict[str, Any] = {}
        self.flat_parts: dict[int, tuple[Any, Any]] = {}

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
        slow = slow_completer(rtype, group, parent, field_def)
        if isinstance(rtype, GraphQLNonNull):
            inner = self.completer(rtype.of_type, group, parent, field_def)
            if inner is None:
                return None
            message = f"Cannot return null for non-nullable field {parent}.{field_def_name(group)}."
            return non_null_completer(inner, message)
        if isinstance(rtype, GraphQLList):
            item_type = rtype.of_type
            inner = self.completer(item_type, group, parent, field_def)
            if inner is None:
                return None
            return self.list_of_objects(list_completer(inner, item_type, group, slow))
        if isinstance(rtype, GraphQLObjectType):
            return self.object_completer(rtype, group, slow)
        if is_abstract_type(rtype):
            return None
        return leaf_completer(rtype, slow)

    def object_completer(self, otype: GraphQLObjectType, group: Any, slow: Any) -> Any:
        """Two generated functions: a careful one mirroring standard completion field by
        field, and (when every field allows it) a fast one that reads all attributes, checks
        them at once and builds the dict in one literal, handing anything unexpected to the
        careful one before it has done anything."""
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
        body, specs = self.object_body(otype, fields)
        self.count += 1
        fn_name = f"obj{self.count}_{otype.name}"
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
        fast = self.fast_source(otype, specs, fn_name)
        env = dict(self.env)
        env["SLOW"] = slow
        env["ITO"] = otype.is_type_of
        if fast is not None:
            source += fast
            fn_name += "_fast"
        exec("\n".join(source), env)
        function = env[fn_name]
        if fn_name in self.pure:
            self.pure_parts[id(function)] = (function, self.pure[fn_name])
        if fn_name in self.flat:
            self.flat_parts[id(function)] = (function, self.flat[fn_name])
        return function

    def fast_source(self, otype: GraphQLObjectType, specs: Any, careful: str) -> list[str] | None:
        """The fast function for an object whose fields all have a fast form, or None.

        Attribute reads are assumed free of side effects (stored values): the careful
        function reads them again when the fast one hands a value over."""
        if specs is None:
            return None
        guard: str
        record = record_type(otype)
        if otype.is_type_of is None:
            guard = "v is None or isinstance(v, Exception)"
            is_node = None
        elif record is not None:
            guard = f"type(v) is not {self.name('R', record)}"
            # exactly ``record``: isinstance(v, Node) is known unless Node's metaclass is not type
            is_node = issubclass(record, relay.Node) if type(relay.Node) is type else None
        else:
            return None
        reads: list[str] = []
        tests: list[str] = []
        prep: list[str] = []
        calls: list[str] = []
        items: list[str] = []
        after: list[str] = []
        for index, spec in enumerate(specs):
            kind, key = spec[0], spec[1]
            x = f"x{index}"
            if kind == "const":
                items.append(f"{key}: {spec[2]}")
                continue
            if kind == "id":
                if is_node is True:
                    return None
                reads.append(f"{x} = v.{spec[2]}")
                test = f"type({x}) is ObjectId"
                if is_node is None:
                    test += " and not isinstance(v, Node)"
                tests.append(test)
                if not prep:  # this request's memo of encoded ids of this type
                    prep.append(f"M = ex._ids[{otype.name!r}]")
                encode = self.name("ENC", id_encoder(otype.name))
                items.append(f"{key}: M.get({x}._ObjectId__id) or {encode}(M, {x})")
                continue
            if kind == "leaf":
                _kind, _key, read, rtype = spec
                check = self.leaf_check(rtype, x)
                assert check is not None
                reads.append(f"{x} = {read}")
                tests.append(f"({check[0]})")
                items.append(f"{key}: {check[1]}")
                continue
            if kind == "load":
                _kind, _key, attr, entry, many, non_null = spec
                reads.append(f"{x} = v.{attr}")
                if many:
                    tests.append(f"(type({x}) is tuple or type({x}) is list)")
                    after.append(f"LOADS.append({entry.format(x=x)})")
                elif non_null:
                    tests.append(f"{x} is not None")
                    after.append(f"LOADS.append({entry.format(x=x)})")
                else:
                    after.append(f"if {x} is not None:")
                    after.append(f"    LOADS.append({entry.format(x=x)})")
                items.append(f"{key}: None")
                continue
            # a composite stored value: completed in place, errors as the careful one does
            _kind, _key, read, c, rt, g = spec
            reads.append(f"{x} = {read}")
            r = f"r{index}"
            calls += [
                f"fp = (path, {key}, {otype.name!r})",
                "try:",
                f"    {r} = {c}(ex, {x}, fp, fp)",
                f"    if type({r}) is not dict and type({r}) is not list and {r} is not None"
                f" and ex.is_awaitable({r}):",
                f"        {r} = await_completed(ex, {r}, {rt}, {g}, fp)",
                "        if aw is None:",
                "            aw = []",
                f"        aw.append(({key}, {r}))",
                "except Exception as error:",
                f"    ex.handle_field_error(error, {rt}, {g}, fp)",  # raises for non-null
                f"    {r} = None",
            ]
            tests.append(f"(type({x}) is list or type({x}) is tuple or not ex.is_awaitable({x}))")
            items.append(f"{key}: {r}")
        fast_name = f"{careful}_fast"
        if record is not None and not calls:
            self.flat[fast_name] = (guard, reads, tests, items, prep, after)
            if not after:
                self.pure[fast_name] = (guard, reads, tests, items, prep)
        source = [f"def {fast_name}(ex, v, path, fpath):", f"    if {guard}:"]
        source.append(f"        return {careful}(ex, v, path, fpath)")
        if reads:
            source += ["    try:"] + ["        " + line for line in reads]
            source += ["    except Exception:", f"        return {careful}(ex, v, path, fpath)"]
        if tests:
            source.append(f"    if not ({' and '.join(tests)}):")
            source.append(f"        return {careful}(ex, v, path, fpath)")
        source += ["    " + line for line in prep]
        if calls:
            source += ["    aw = None", "    try:"]
            source += ["        " + line for line in calls]
            source += [
                "    except Exception:",  # an error for a non-null field: as the careful one
                "        if aw:",
                "            ex.settle_in_background([pending for _key, pending in aw])",
                "        raise",
            ]
        source.append(f"    d = {{{', '.join(items)}}}")
        if after:
            source.append("    LOADS = ex._loads")
            source += ["    " + line for line in after]
        if calls:
            source += [
                "    if aw is not None:",
                "        return gather_object(d, [key for key, _pending in aw])",
            ]
        source.append("    return d")
        return source

    def object_body(self, otype: GraphQLObjectType, fields: Any) -> tuple[list[str], Any]:
        """The careful function's body, and the fields' fast forms (None: no fast form)."""
        lines: list[str] = []
        specs: list[Any] | None = []
        schema = self.ex.schema
        tname = otype.name
        for response_name, group in fields.items():
            self.plan.keep.append(group)
            key = repr(response_name)
            field_name = group[0].node.name.value
            g = self.name("G", group)
            fpath = f"Path(real(path), {key}, {tname!r})"
            if field_name == "__typename":
                lines.append(f"d[{key}] = {tname!r}")
                if specs is not None:
                    specs.append(("const", key, repr(tname)))
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
            id_attr = node_id_attr(otype, field_def)
            if id_attr is not None and named_type(rtype) is schema.get_type("ID"):
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
                if specs is not None:
                    specs.append(("id", key, id_attr))
                continue
            load = load_spec(field_def)
            if load is not None and comp is not None:
                entry = self.load_entry(load, comp, key, tname)
                lines += self.load_lines(load, rtype, entry, key, delegate)
                if specs is not None:
                    non_null = isinstance(rtype, GraphQLNonNull)
                    specs.append(("load", key, load[0], entry, load[2], non_null))
                continue
            if is_plain(field_def):
                read = f"v.{strawberry_field(field_def).python_name}"
            else:
                direct = direct_resolver(schema, field_def)
                if direct is None:
                    lines += delegate
                    specs = None
                    continue
                read = f"{self.name('D', direct)}(v)"  # the resolver, called as strawberry does
            named = named_type(rtype)
            if isinstance(named, GraphQLScalarType | GraphQLEnumType):
                check = self.leaf_check(rtype, "x")
                if check is None:
                    lines += delegate
                    specs = None
                    continue
                test, value = check
                lines += [
                    "try:",
                    f"    x = {read}",
                    "except Exception:",
                    "    x = MISSING",
                    f"if {test}:",
                    f"    d[{key}] = {value}",
                    "else:",
                ]
                lines += ["    " + line for line in delegate]
                if specs is not None:
                    specs.append(("leaf", key, read, rtype))
                continue
            if comp is None:
                lines += delegate
                specs = None
                continue
            c = self.name("C", comp)
            rt = self.name("RT", rtype)
            lines += [
                f"fp = (path, {key}, {tname!r})",
                "try:",
                f"    x = {read}",
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
            if specs is not None:
                specs.append(("composite", key, read, c, rt, g))
        return lines, specs

    def load_entry(self, load: Any, comp: Any, key: str, tname: str) -> str:
        """The registration tuple drain() expects, in terms of ``{x}`` (the loaded keys)."""
        _attr, loader, many = load
        mode, function = int(many), comp  # see drain(): bit 1 many, bit 2 a fill function
        fill = self.fill(comp) if many else self.fill_one(comp)
        if fill is not None:
            mode, function = mode | 2, fill
        c = self.name("C", function)
        return f"({loader!r}, {mode}, {{x}}, d, {key}, {c}, (path, {key}, {tname!r}))"

    def list_of_objects(self, complete: Any) -> Any:
        """For lists of objects whose fast form only reads, builds and registers loads: one
        loop building the items in place; from the first item it did not expect on, the
        standard-mirroring list completer ``complete`` takes over (``finish``)."""
        item = getattr(complete.item, "inner", complete.item)  # non-null items
        found = self.flat_parts.get(id(item))
        if found is None or found[0] is not item:
            return complete
        guard, reads, tests, items, prep, after = found[1]
        self.count += 1
        name = f"list{self.count}"
        source = [
            f"def {name}(ex, value, lpath, fpath):",
            "    if type(value) is not list and type(value) is not tuple:",
            "        return GENERIC(ex, value, lpath, fpath)",
            "    for v in value:",
            f"        if {guard}:",
            "            return GENERIC(ex, value, lpath, fpath)",
            *["    " + line for line in prep],
            "    results = []",
            "    append = results.append",
            "    index = 0",
        ]
        if after:
            source.append("    LOADS = ex._loads")
        source.append("    for v in value:")
        if reads:
            source += ["        try:"] + ["            " + line for line in reads]
            source += ["        except Exception:"]
            source += ["            return FINISH(ex, value, lpath, fpath, results, index)"]
        if tests:
            source.append(f"        if not ({' and '.join(tests)}):")
            source.append("            return FINISH(ex, value, lpath, fpath, results, index)")
        source.append(f"        d = {{{', '.join(items)}}}")
        if after:
            source.append("        path = (lpath, index, None)")  # the item's, for its loads
            source += ["        " + line for line in after]
        source += ["        append(d)", "        index += 1", "    return results"]
        env = dict(self.env)
        env["GENERIC"] = complete
        env["FINISH"] = complete.finish
        exec("\n".join(source), env)
        function = env[name]
        function.item, function.finish = complete.item, complete.finish
        return function

    def fill_one(self, comp: Any) -> Any | None:
        """For a loaded object with a pure fast form: the fill function building it from the
        loaded records, or None; ``comp`` completes anything it did not expect."""
        item = getattr(comp, "inner", comp)  # non-null
        found = self.pure_parts.get(id(item))
        if found is None or found[0] is not item:
            return None
        guard, reads, tests, items, prep = found[1]
        self.count += 1
        name = f"fill{self.count}"
        source = [
            f"def {name}(ex, records, value, path, memo):",
            f"    rows = memo.get({self.count})",
            "    if rows is None:",
            f"        rows = memo[{self.count}] = {{}}",
            "    key = value._ObjectId__id if type(value) is ObjectId else (type(value), value)",
            "    row = rows.get(key)",
            "    if row is not None:",
            "        return row.copy()",
            "    v = records[key]",
            f"    if {guard}:",
            "        return COMPLETE(ex, v, path, path)",
            *["    " + line for line in prep],
        ]
        if reads:
            source += ["    try:"] + ["        " + line for line in reads]
            source += ["    except Exception:", "        return COMPLETE(ex, v, path, path)"]
        if tests:
            source.append(f"    if not ({' and '.join(tests)}):")
            source.append("        return COMPLETE(ex, v, path, path)")
        source += [f"    row = rows[key] = {{{', '.join(items)}}}", "    return row"]
        env = dict(self.env)
        env["COMPLETE"] = comp
        exec("\n".join(source), env)
        return env[name]

    def fill(self, comp: Any) -> Any | None:
        """For a loaded list of objects with a pure fast form: one function building the
        whole list from the loaded records (drain's mode 2), or None. Any record it did not
        expect hands the whole list to the standard-mirroring completer ``comp``. A record
        met again in the same drain round (no await in between: the same values) gets a copy
        of the item built for it before."""
        item = getattr(comp, "inner", comp)  # a non-null list
        item = getattr(item, "item", None)
        item = getattr(item, "inner", item)  # non-null items
        found = self.pure_parts.get(id(item))
        if found is None or found[0] is not item:
            return None
        guard, reads, tests, items, prep = found[1]
        self.count += 1
        name = f"fill{self.count}"
        source = [
            f"def {name}(ex, records, value, path, memo):",
            f"    rows = memo.get({self.count})",  # this round's items, by key: copied
            "    if rows is None:",
            f"        rows = memo[{self.count}] = {{}}",
            *["    " + line for line in prep],
            "    out = []",
            "    append = out.append",
            "    for k in value:",
            "        key = k._ObjectId__id if type(k) is ObjectId else (type(k), k)",
            "        row = rows.get(key)",
            "        if row is not None:",
            "            append(row.copy())",
            "            continue",
            "        v = records[key]",
            "        if v is None:",
            "            continue",
            f"        if {guard}:",
            "            return REST(ex, records, value, path)",
        ]
        if reads:
            source += ["        try:"] + ["            " + line for line in reads]
            source += ["        except Exception:"]
            source += ["            return REST(ex, records, value, path)"]
        if tests:
            source.append(f"        if not ({' and '.join(tests)}):")
            source.append("            return REST(ex, records, value, path)")
        source.append(f"        row = rows[key] = {{{', '.join(items)}}}")
        source += ["        append(row)", "    return out"]
        env = dict(self.env)
        env["REST"] = fill_rest(comp)
        exec("\n".join(source), env)
        return env[name]

    def load_lines(
        self, load: Any, rtype: Any, entry: str, key: str, delegate: list[str]
    ) -> list[str]:
        """Loaded references are batched: registered here, loaded and completed by drain."""
        attr, _loader, many = load
        lines = ["try:", f"    x = v.{attr}", "except Exception:", "    x = MISSING"]
        if many:
            lines += ["if type(x) is tuple or type(x) is list:"]
        elif not isinstance(rtype, GraphQLNonNull):
            lines += ["if x is None:", f"    d[{key}] = None", "elif x is not MISSING:"]
        else:
            lines += ["if x is not None and x is not MISSING:"]
        lines += [f"    d[{key}] = None", f"    ex._loads.append({entry.format(x='x')})"]
        lines += ["else:"] + ["    " + line for line in delegate]
        return lines

    def leaf_check(self, rtype: Any, x: str) -> tuple[str, str] | None:
        """(test, value) in terms of variable ``x`` for values whose standard result is
        known."""
        nullable = not isinstance(rtype, GraphQLNonNull)
        named = named_type(rtype)
        if isinstance(named, GraphQLList) or isinstance(rtype, GraphQLList):
            return None
        if isinstance(rtype, GraphQLNonNull) and isinstance(rtype.of_type, GraphQLList):
            return None
        test: str
        value = x
        if isinstance(named, GraphQLEnumType):
            found = enum_table(named)
            if found is None:
                return None
            cls, table = found
            e, t = self.name("E", cls), self.name("T", table)
            test, value = f"type({x}) is {e} and {x} in {t}", f"{t}[{x}]"
        elif named is GraphQLString:
            test = f"type({x}) is str"
        elif named is GraphQLInt:
            test = f"type({x}) is int and INT_MIN <= {x} <= INT_MAX"
        elif named is GraphQLBoolean:
            test = f"type({x}) is bool"
        elif named.name == "DateTime" and is_isoformat(named):
            test, value = f"type({x}) is datetime", f"{x}.isoformat()"
        else:
            return None
        if nullable:
            test = f"{x} is None or {test}"
            value = f"None if {x} is None else {value}" if value != x else x
        return test, value
