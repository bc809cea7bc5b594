"""Request limits, built once: document limits (depth, aliases, tokens) as schema extensions,
and the request protection settings (:class:`Protection`, from the environment).

QueryDepthLimiter and MaxAliasesLimiter each create a new validation-rule class when
constructed. Built per request, the rules would differ every time and the validation cache
(keyed by the rules) would never hit; so the rule classes are created here once and a
no-argument extension adds those same classes to every request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

MAX_DEPTH = 12
MAX_ALIASES = 50
MAX_TOKENS = 5000
CACHE_SIZE = 256

RULES = _RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def _access_log(value: str) -> str | None:
    value = value.strip() or "-"
    return None if value.lower() in ("off", "0") else value


@dataclass(frozen=True)
class Protection:
    """What every request is held to (docs/protection.md lists the variables)."""

    enabled: bool = True  # OWNERSHIP_PROTECTION=0: off, for the benchmark's comparison only
    max_cost: int = 250_000
    window_seconds: int = 3600
    budget_person: int = 5_000_000
    budget_support: int = 20_000_000
    budget_node: int = 100_000
    deadline_seconds: float = 30.0
    max_body_bytes: int = 1024 * 1024
    cors_origins: tuple[str, ...] = field(default=())
    # the access log: "-" stderr, a file path, or None (off); graph/observe.py AccessLog
    access_log: str | None = "-"

    @classmethod
    def from_env(cls) -> Protection:
        origins = os.environ.get("OWNERSHIP_CORS_ORIGINS", "")
        return cls(
            enabled=os.environ.get("OWNERSHIP_PROTECTION", "1") != "0",
            max_cost=_env_int("OWNERSHIP_MAX_COST", cls.max_cost),
            window_seconds=_env_int("OWNERSHIP_RATE_WINDOW", cls.window_seconds),
            budget_person=_env_int("OWNERSHIP_RATE_LIMIT", cls.budget_person),
            budget_support=_env_int("OWNERSHIP_RATE_LIMIT_SUPPORT", cls.budget_support),
            budget_node=_env_int("OWNERSHIP_RATE_LIMIT_NODE", cls.budget_node),
            deadline_seconds=_env_float("OWNERSHIP_DEADLINE", cls.deadline_seconds),
            max_body_bytes=_env_int("OWNERSHIP_MAX_BODY", cls.max_body_bytes),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            access_log=_access_log(os.environ.get("OWNERSHIP_ACCESS_LOG", "-")),
        )


class DocumentLimits(AddValidationRules):
    """Depth and alias limits with rule classes shared by every request."""

    def __init__(self) -> None:
        super().__init__(_RULES)


def limit_extensions() -> list[object]:
    """Schema extensions, as factories so each request gets its own instance."""
    from graph.admission import CostLimits

    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        DocumentLimits,
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        CostLimits,
    ]
