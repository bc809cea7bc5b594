"""Admitting an operation: its cost (graph/cost.py) against the per-request maximum and the
token's rate limit (graph/ratelimit.py), once per request.

The standard stack does it in :class:`CostLimits` (a schema extension, after validation);
the fast front (graph/fast/front.py) calls :func:`admit` itself with the same cached plan.
What was decided is kept on the request (``RequestInfo.admission``), so a request the front
hands on to the stack is neither charged twice nor judged differently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
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


_TIMES: dict[int, str] = {}


def _time(epoch: int) -> str:
    """ISO 8601 in UTC; the few window ends in use are formatted once."""
    text = _TIMES.get(epoch)
    if text is None:
        if len(_TIMES) > 64:
            _TIMES.clear()
        text = _TIMES[epoch] = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return text


async def admit(
    info: RequestInfo | None,
    context: Any,
    cost_plan: CostPlan,
    variables: dict[str, Any] | None,
    operation: str | None = None,
    *,
    per_request: bool = True,
) -> Admission:
    """The request's admission, decided on its first call (later calls return the same).
    A WebSocket's operations (``per_request=False``) are each decided on their own."""
    if per_request and info is not None and info.admission is not None:
        return info.admission
    protection = info.protection if info is not None else DEFAULT
    cost, admission = _judge(protection, cost_plan, variables)
    if admission is None:
        credential = getattr(context, "credential", None)
        limiter = info.limiter if info is not None else None
        if limiter is None or credential is None:
            admission = Admission(cost, None)
        else:
            info.token_id = credential.token_id  # type: ignore[union-attr]
            points = cost if cost > 0 else 1
            decision = limiter.try_charge(context.db, credential, points)
            if decision is None:  # past this process's allowance: one database round trip
                decision = await limiter.charge(context.db, credential, points)
            admission = _charged(protection, cost, decision)
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
                self.admission = await admit(
                    info,
                    context.context,
                    cost_plan,
                    context.variables,
                    chosen,
                    per_request=not websocket,
                )
                if self.admission.error is not None:
                    context.result = ExecutionResult(data=None, errors=[self.admission.error])
        yield

    def get_results(self) -> dict[str, Any]:
        admission = self.admission
        if admission is None or admission.extension is None:
            return {}
        return {"cost": admission.extension}
