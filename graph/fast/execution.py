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
loaded for the whole page in one batch per loader.

Each object selection compiles to two functions: a careful one mirroring standard
completion field by field, and, when every field is stored, loaded or constant, a fast one
that reads all attributes, checks them in one expression and builds the response dict as one
literal; anything it did not expect goes to the careful one before it did anything (reads
of stored attributes are taken to be free of side effects). Lists of such objects and loaded
lists are built by one generated loop each, handing over to the careful completion from the
first unexpected item on. Paths are built only when an error or the standard completion
needs one, and relay ids of ObjectIds are encoded once per request.

If anything below the root fields raises an error, the operation is executed again the
standard way and that response is returned: a response with errors always comes from
standard execution. Root resolvers
(authorization, scoping, pagination, filters) run unchanged. tests/graph/test_fast.py checks
all this differentially and pins the versions it was verified against.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, defaultdict
from typing import Any

from graphql import (
    GraphQLObjectType,
    OperationType,
)
from graphql.execution.collect_fields import collect_fields
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.fast.compile import MISSING, Compiler, Plan, directive_variables
from graph.fast.fields import root_names
from graph.fast.runtime import drain, real
from graph.fast.switches import FAST, loads, standard

__all__ = ["PLANS", "FastExecutionContext", "loads", "standard"]


PLAN_CACHE_SIZE = 256

log = logging.getLogger(__name__)


class _PlanCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self.plans: OrderedDict[Any, Plan | None] = OrderedDict()
        self.variables: OrderedDict[Any, tuple[str, ...]] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.reruns = 0
        self.served = 0  # operations whose root fields were completed by a plan

    def _put(self, table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        table[key] = value
        if len(table) > self.size:
            table.popitem(last=False)

    def clear(self) -> None:
        self.plans.clear()
        self.variables.clear()


PLANS = _PlanCache(PLAN_CACHE_SIZE)


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with compiled completion of stored fields for queries."""

    _plan: Plan | None = None
    _loads: list[Any] | None = None
    _dirty: bool = False
    _standard: bool = False
    _ids: defaultdict[str, dict[bytes, str]]  # this request's encoded relay ids, by type

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
        # as a fresh request: what the first run loaded (or cached as failed) would change
        # when errors arrive, and so which of them a standard run reports
        renewed = getattr(fresh.context_value, "renewed", None)
        if callable(renewed):
            fresh.context_value = renewed()
        return fresh.execute_operation()

    def handle_field_error(self, raw_error: Any, return_type: Any, group: Any, path: Any) -> None:
        path = real(path)  # compiled code passes lazy paths
        if self._plan is not None and path is not None and path.prev is not None:
            self._dirty = True
        super().handle_field_error(raw_error, return_type, group, path)

    def mark_dirty(self, _error: Exception, _path: Any) -> None:
        self._dirty = True

    def _find_plan(self, root_type: GraphQLObjectType) -> Plan | None:
        operation = self.operation
        if self._standard or not FAST.get() or operation.operation != OperationType.QUERY:
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
            names = directive_variables(operation)
            for fragment in self.fragment_definitions.values():
                names = tuple(sorted({*names, *directive_variables(fragment)}))
            PLANS._put(PLANS.variables, document_key, names)
        coerced = self.variable_values.coerced
        try:
            key = (document_key, tuple(coerced.get(name, MISSING) for name in names))
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
        if new_defer_usages or any(name in ("__schema", "__type") for name in root_names(fields)):
            return None  # introspection runs the standard way
        plan = Plan(fields)
        compiler = Compiler(self, plan)
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
                PLANS.served += 1
                self._plan = plan
                self._ids = defaultdict(dict)
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
                return drain(self, completed, loads) if loads else completed
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )
