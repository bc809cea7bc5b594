"""Admitting an operation: its cost (graph/cost.py) against the per-request maximum and the
token's rate limit (graph/ratelimit.py), once per request.

The standard stack does it in :class:`CostLimits` (a schema extension, after validation);
the fast front (graph/fast/front.py) calls :func:`admit` itself with the same cached plan.
What was decided is kept on the request (``RequestInfo.admission``), so a request the front
hands on to the stack is neither charged twice nor judged differently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graph.cost import CostPlan, ListTooLong, plan, plan_for
from graph.guard import RequestInfo, request_info
from graph.limits import Protection
from graph.ratelimit import Decision

DEFAULT = Protection()


@dataclass(slots=True)
class Admission:
    cost: int
    extension: dict[str, Any] | None  # extensions.cost, when the request is rate limited
    error: GraphQLError | None = None
    retry_after: int | None = None  # set for RATE_LIMITED (429)


def _error(message: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions=extensions)


def _time(epoch: int) -> str:
    """ISO 8601 in UTC."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def admit(
    info: RequestInfo | None,
    context: Any,
    cost_plan: CostPlan,
    variables: dict[str, Any] | None,
    operation: str | None = None,
    *,
    per_request: bool = True,
) -> Admission | Awaitable[Admission]:
    """The request's admission, decided on its first call (later calls return the same).
    A WebSocket's operations (``per_request=False``) are each decided on their own.

    Decided at once (an :class:`Admission`), unless this process must first write the points
    it admitted to the shared count: then an awaitable of it (:func:`await_admission`)."""
    if info is None:
        protection, limiter = DEFAULT, None
    elif per_request and info.admission is not None:
        return info.admission  # type: ignore[no-any-return]
    else:
        protection, limiter = info.protection, info.limiter
    cost = cost_plan.fixed
    if cost is None or cost > protection.max_cost:
        cost, refusal = _judge(protection, cost_plan, variables)
        if refusal is not None:
            return _decided(info, refusal, operation, per_request)
    credential = getattr(context, "credential", None) if limiter is not None else None
    if credential is None:
        return _decided(info, Admission(cost, None), operation, per_request)
    info.token_id = credential.token_id  # type: ignore[union-attr]
    spent = limiter.spend(context.db, credential, cost if cost > 0 else 1)  # type: ignore[union-attr]
    if spent is None:  # past this process's allowance: one database round trip first
        return _charge(info, context, credential, protection, cost, operation, per_request)
    if type(spent) is Decision:
        admission = _charged(protection, cost, spent)
    else:
        extension = {
            "requested": cost,
            "limit": spent.limit,
            "remaining": spent.remaining,
            "resetAt": spent.reset_text,  # type: ignore[union-attr]
        }
        admission = Admission(cost, extension)
    if per_request:
        info.operation = operation  # type: ignore[union-attr]
        info.admission = admission  # type: ignore[union-attr]
        info.cost = cost  # type: ignore[union-attr]
    return admission


async def await_admission(decided: Admission | Awaitable[Admission]) -> Admission:
    """:func:`admit`'s answer, awaited when it is not decided yet."""
    return decided if type(decided) is Admission else await decided  # type: ignore[misc]


async def _charge(
    info: Any,
    context: Any,
    credential: Any,
    protection: Protection,
    cost: int,
    operation: str | None,
    per_request: bool,
) -> Admission:
    decision = await info.limiter.charge(context.db, credential, cost if cost > 0 else 1)
    return _decided(info, _charged(protection, cost, decision), operation, per_request)


def _decided(
    info: RequestInfo | None, admission: Admission, operation: str | None, per_request: bool
) -> Admission:
    if per_request and info is not None:
        info.operation = operation
        info.admission = admission
        info.cost = admission.cost
    return admission


def _judge(
    protection: Protection, cost_plan: CostPlan, variables: dict[str, Any] | None
) -> tuple[int, Admission | None]:
    """The operation's cost, and its refusal when a list or the cost is over the limit."""
    try:
        cost = cost_plan.cost(variables)
    except ListTooLong as refusal:
        error = _error(
            str(refusal), code="LIST_SIZE_EXCEEDED", argument=refusal.where, size=refusal.size
        )
        return 0, Admission(0, None, error)
    if cost > protection.max_cost:
        message = (
            f"This query may cost {cost} points; at most {protection.max_cost} are allowed per"
            " request. Ask for fewer items (first/last) or nest fewer connections."
        )
        error = _error(message, code="MAX_COST_EXCEEDED", cost=cost, maxCost=protection.max_cost)
        return cost, Admission(cost, None, error)
    return cost, None


def _charged(protection: Protection, cost: int, decision: Decision) -> Admission:
    extension = {
        "requested": cost,
        "limit": decision.limit,
        "remaining": decision.remaining,
        "resetAt": _time(decision.reset_at),
    }
    if decision.allowed:
        return Admission(cost, extension)
    message = (
        f"This token's rate limit of {decision.limit} points per"
        f" {protection.window_seconds} s is spent (this query may cost {cost});"
        f" retry after {decision.retry_after} s, at {extension['resetAt']}."
    )
    error = _error(message, code="RATE_LIMITED", retryAfter=decision.retry_after, **extension)
    return Admission(cost, extension, error, decision.retry_after)


class CostLimits(SchemaExtension):
    """The stack's admission: after validation, before execution."""

    admission: Admission | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if (
            document is not None
            and not context.pre_execution_errors
            and context.operation_type is not OperationType.SUBSCRIPTION
        ):
            request = getattr(context.context, "request", None)
            info = request_info(request.scope) if request is not None else None
            # in process (no request): the default limits; over HTTP: the Guard's, if any
            if request is None or (info is not None and info.protection.enabled):
                schema = context.schema._schema
                name = getattr(context, "_provided_operation_name", None)
                chosen = context.operation_name
                if context.query is not None and (name is None or isinstance(name, str)):
                    cost_plan = plan_for(schema, (context.query, name), document, chosen)
                else:
                    cost_plan = plan(schema, document, chosen)
                websocket = request is not None and request.scope.get("type") == "websocket"
                self.admission = await await_admission(
                    admit(
                        info,
                        context.context,
                        cost_plan,
                        context.variables,
                        chosen,
                        per_request=not websocket,
                    )
                )
                if self.admission.error is not None:
                    context.result = ExecutionResult(data=None, errors=[self.admission.error])
        yield

    def get_results(self) -> dict[str, Any]:
        admission = self.admission
        if admission is None or admission.extension is None:
            return {}
        return {"cost": admission.extension}
