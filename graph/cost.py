"""Query cost: what an operation may cost at most, computed once per validated document.

The formula (docs/protection.md says it for users):

- a field that returns objects (an object, interface or union type) costs 1 per object it
  may return, plus what its selection costs for each of them; a scalar or enum field costs 0;
- how many objects a field may return: a connection 1 (the connection itself), its
  ``edges`` / ``nodes`` ``first`` or ``last`` (the default page size when neither is given);
  ``nodes(ids:)`` one per ID; any other list ``LIST_SIZE``; a single object 1;
- each mutation field costs ``MUTATION_COST`` more;
- fragments count where they are spread; ``@skip`` / ``@include`` are not looked at (the cost
  is an upper bound); introspection costs nothing.

A :class:`CostPlan` is the document's cost as a small tree whose multipliers may name
variables; it is a constant when none does. Every list in the arguments (literal, or a
variable's value) is held to ``MAX_LIST`` items too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListTypeNode,
    ListValueNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)

from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

LIST_SIZE = 10  # what a list that is not a connection counts for (team members, licenses...)
MUTATION_COST = 10
MAX_LIST = 100  # items in any list argument (nodes(ids:), appIds...)
CACHE_SIZE = 512

Variables = dict[str, Any]
Count = int | Callable[[Variables], int]
# (objects the field may return per parent, what each of them costs itself, children)
Term = tuple[Count, int, tuple["Term", ...]]


class ListTooLong(Exception):
    """A list argument over ``MAX_LIST`` items (``where``: the argument or variable)."""

    def __init__(self, where: str, size: int) -> None:
        super().__init__(f"`{where}` has {size} items; at most {MAX_LIST} are allowed")
        self.where = where
        self.size = size


@dataclass(frozen=True, slots=True)
class CostPlan:
    terms: tuple[Term, ...]
    constant: int | None  # the cost when no multiplier names a variable
    list_error: ListTooLong | None  # a literal list over the limit
    list_variables: tuple[str, ...]  # variables whose values may hold lists
    # the cost whatever the variables, when nothing needs checking: the request path's answer
    fixed: int | None = None

    def cost(self, variables: Variables | None) -> int:
        """The operation's cost with these variables; raises ListTooLong."""
        if self.list_error is not None:
            raise self.list_error
        variables = variables or {}
        for name in self.list_variables:
            _check_lists(f"${name}", variables.get(name))
        if self.constant is not None:
            return self.constant
        return _total(self.terms, variables)


def _total(terms: tuple[Term, ...], variables: Variables) -> int:
    total = 0
    for count, weight, children in terms:
        n = count if type(count) is int else count(variables)  # type: ignore[operator]
        total += n * (weight + (_total(children, variables) if children else 0))
    return total


def _check_lists(where: str, value: Any) -> None:
    if isinstance(value, list):
        if len(value) > MAX_LIST:
            raise ListTooLong(where, len(value))
        for item in value:
            _check_lists(where, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_lists(f"{where}.{key}", item)


def _int_argument(
    field: FieldNode, names: tuple[str, ...], defaults: dict[str, Any]
) -> Count | None:
    """The largest of these Int arguments, as a constant or a function of the variables."""
    parts: list[Count] = []
    for argument in field.arguments or ():
        if argument.name.value not in names:
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            parts.append(_page(int(value.value)))
        elif isinstance(value, VariableNode):
            parts.append(_variable_page(value.name.value, defaults.get(value.name.value)))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return lambda variables: max(p if type(p) is int else p(variables) for p in parts)  # type: ignore[operator]


def _page(value: Any) -> int:
    return min(max(value, 0), MAX_PAGE_SIZE) if isinstance(value, int) else DEFAULT_PAGE_SIZE


def _variable_page(name: str, default: Any) -> Callable[[Variables], int]:
    return lambda variables: _page(variables.get(name, default))


def _ids_count(field: FieldNode) -> Count | None:
    for argument in field.arguments or ():
        if argument.name.value != "ids":
            continue
        value = argument.value
        if isinstance(value, ListValueNode):
            return len(value.values)
        if isinstance(value, VariableNode):
            name = value.name.value
            return lambda variables: min(len(variables.get(name) or ()), MAX_LIST)
    return None


class _Planner:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, defaults: dict[str, Any]):
        self.schema = schema
        self.defaults = defaults
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variable = False
        self.list_error: ListTooLong | None = None

    def selections(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode, page: Count | None
    ) -> list[Term]:
        terms: list[Term] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                term = self.field(parent, selection, page)
                if term is not None:
                    terms.append(term)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                terms += self.selections(target or parent, selection.selection_set, page)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    terms += self.selections(target or parent, fragment.selection_set, page)
        return terms

    def field(self, parent: GraphQLNamedType, node: FieldNode, page: Count | None) -> Term | None:
        for argument in node.arguments or ():
            self.literal_lists(argument.name.value, argument.value)
        name = node.name.value
        fields = getattr(parent, "fields", None)
        if name.startswith("__") or fields is None or name not in fields:
            return None
        type_ = get_nullable_type(fields[name].type)
        named = get_named_type(type_)
        if not is_composite_type(named) or node.selection_set is None:
            return None
        inner_page: Count | None = None
        if isinstance(named, GraphQLObjectType) and "pageInfo" in named.fields:
            inner_page = _int_argument(node, ("first", "last"), self.defaults)
            if inner_page is None:
                inner_page = DEFAULT_PAGE_SIZE
        count: Count = 1
        if is_list_type(type_):
            count = page if page is not None and name in ("edges", "nodes") else LIST_SIZE
            ids = _ids_count(node)
            if ids is not None:
                count = ids
        if type(count) is not int or type(inner_page) not in (int, type(None)):
            self.variable = True
        children = tuple(self.selections(named, node.selection_set, inner_page))
        weight = 1 + (MUTATION_COST if parent is self.schema.mutation_type else 0)
        return count, weight, children

    def literal_lists(self, where: str, value: ValueNode) -> None:
        if isinstance(value, ListValueNode):
            if len(value.values) > MAX_LIST and self.list_error is None:
                self.list_error = ListTooLong(where, len(value.values))
            for item in value.values:
                self.literal_lists(where, item)
        elif isinstance(value, ObjectValueNode):
            for field in value.fields:
                self.literal_lists(f"{where}.{field.name.value}", field.value)


def _may_hold_lists(schema: GraphQLSchema, type_node: TypeNode, seen: set[str]) -> bool:
    if isinstance(type_node, ListTypeNode):
        return True
    if isinstance(type_node, NonNullTypeNode):
        return _may_hold_lists(schema, type_node.type, seen)
    assert isinstance(type_node, NamedTypeNode)
    return _input_has_lists(schema.get_type(type_node.name.value), seen)


def _input_has_lists(type_: Any, seen: set[str]) -> bool:
    if not isinstance(type_, GraphQLInputObjectType) or type_.name in seen:
        return False
    seen.add(type_.name)
    for field in type_.fields.values():
        inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if isinstance(inner, GraphQLList) or _input_has_lists(inner, seen):
            return True
    return False


def plan(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> CostPlan:
    """The cost plan of the operation strawberry runs (the named one, else the first)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(
        (
            o
            for o in operations
            if operation_name is None or (o.name and o.name.value == operation_name)
        ),
        None,
    )
    if operation is None:
        return CostPlan((), 0, None, (), 0)
    defaults = {
        d.variable.name.value: getattr(d.default_value, "value", None)
        for d in operation.variable_definitions or ()
    }
    defaults = {k: int(v) if isinstance(v, str) and v.isdigit() else v for k, v in defaults.items()}
    planner = _Planner(schema, document, defaults)
    root = schema.get_root_type(operation.operation)
    terms = tuple(planner.selections(root, operation.selection_set, None)) if root else ()
    list_variables = tuple(
        d.variable.name.value
        for d in operation.variable_definitions or ()
        if _may_hold_lists(schema, d.type, set())
    )
    constant = None if planner.variable else _total(terms, {})
    fixed = constant if planner.list_error is None and not list_variables else None
    return CostPlan(terms, constant, planner.list_error, list_variables, fixed)


_PLANS: OrderedDict[tuple[str, str | None], CostPlan] = OrderedDict()


def plan_for(
    schema: GraphQLSchema, key: tuple[str, str | None], document: DocumentNode, name: str | None
) -> CostPlan:
    """The plan for a query text and operation name, computed once while it stays cached."""
    found = _PLANS.get(key)
    if found is None:
        found = _PLANS[key] = plan(schema, document, name)
        if len(_PLANS) > CACHE_SIZE:
            _PLANS.popitem(last=False)
    return found
