"""POST /metrics: a cloud node reports samples over plain HTTP (the node token only).

Body: ``{"environmentId": "...", "samples": [{"category": "APP_CPU", "value": 93.5}]}``,
``Content-Type: application/json`` (415 otherwise: a browser cannot send it cross-origin
without a CORS preflight). Answers 200 with the alerts raised, 401 without a node token,
422 with ``userErrors``, 429 when the node token's rate limit is spent (1 point a report).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from graph.context import Context, Loaders
from graph.http import node_viewer
from resolvers.errors import UserErrors
from resolvers.ids import encode
from resolvers.live import EventHub
from store.alerts import AlertRecord

MAX_BODY = 64 * 1024


def _alert(alert: AlertRecord) -> dict[str, Any]:
    return {
        "id": encode("Alert", alert.id),
        "category": alert.category.value,
        "status": alert.status.value,
        "previousStatus": alert.previous_status.value,
        "value": alert.value,
        "at": alert.at.isoformat(),
    }


def _errors(errors: list[dict[str, Any]], status: int) -> JSONResponse:
    return JSONResponse({"alerts": [], "userErrors": errors}, status_code=status)


def _input(body: Any) -> dict[str, Any] | None:
    """The body with camelCase keys turned into the use case's snake_case ones."""
    if not isinstance(body, dict):
        return None

    def snake(key: str) -> str:
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {snake(str(k)): convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return convert(body)


def metrics_endpoint(db_of: Any, hub_of: Any) -> Any:
    from graph.alerts import report
    from graph.guard import request_info
    from resolvers.auth import identify

    async def endpoint(request: Request) -> JSONResponse:
        db = db_of(request)
        credential = await identify(db, request.headers.get("authorization"))
        if credential is None:
            error = {"code": "UNAUTHENTICATED", "message": "Send the app's node token"}
            response = _errors([error], 401)
            response.headers["WWW-Authenticate"] = 'Bearer realm="ownership"'
            return response
        app_id = credential.node_app_id
        if app_id is None:  # a person's token: valid, but not for this
            message = "Only a cloud node's METRICS token reports metrics"
            return _errors([{"code": "INSUFFICIENT_SCOPE", "message": message}], 403)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            message = "Send the body as Content-Type: application/json"
            return _errors([{"code": "INVALID_INPUT", "message": message}], 415)
        info = request_info(request.scope)
        if info is not None and info.limiter is not None:
            info.token_id = credential.token_id
            decision = await info.limiter.charge(db, credential, 1)
            if not decision.allowed:
                message = (
                    f"This node token's rate limit is spent; retry in {decision.retry_after} s"
                )
                response = _errors([{"code": "RATE_LIMITED", "message": message}], 429)
                response.headers["Retry-After"] = str(decision.retry_after)
                return response
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return _errors([{"code": "INVALID_INPUT", "message": "Body too large"}], 413)
        try:
            data = _input(await request.json())
        except ValueError:
            data = None
        if data is None:
            return _errors([{"code": "INVALID_INPUT", "message": "Send a JSON object"}], 400)
        hub: EventHub | None = hub_of(request)
        context = Context(
            db=db,
            viewer=node_viewer(),
            loaders=Loaders.create(db),
            hub=hub,
            node_app_id=app_id,
        )
        try:
            alerts = await report(context, data)
        except UserErrors as refusal:
            errors = [
                {"code": e.code.value, "message": e.message, "field": e.field}
                for e in refusal.errors
            ]
            return _errors(errors, 422)
        return JSONResponse({"alerts": [_alert(a) for a in alerts], "userErrors": []})

    return endpoint


__all__ = ["metrics_endpoint"]
