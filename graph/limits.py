"""Request limits, built once at import.

QueryDepthLimiter and MaxAliasesLimiter each create a new validation-rule class when
constructed. Built per request, the rules would differ every time and the validation cache
(keyed by the rules) would never hit; so the rule classes are created here once and a
no-argument extension adds those same classes to every request.
"""

from __future__ import annotations

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


class DocumentLimits(AddValidationRules):
    """Depth and alias limits with rule classes shared by every request."""

    def __init__(self) -> None:
        super().__init__(_RULES)


def limit_extensions() -> list[object]:
    """Schema extensions, as factories so each request gets its own instance."""
    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        DocumentLimits,
        lambda: ValidationCache(maxsize=CACHE_SIZE),
    ]
