"""The fast read path, one package behind this door.

Domain modules and the application import only what is listed in ``__all__`` here;
``tests/test_layers.py`` fails when a module outside ``graph/fast/`` imports one of its
submodules. Inside:

- ``execution``: the compiled executor (``FastExecutionContext``) and its plan cache;
- ``compile`` / ``runtime`` / ``fields``: code generation, batched loads, field analysis;
- ``projection``: which stored keys a selection reads (``reads``, ``declare``);
- ``front``: the ASGI front that answers known documents without the HTTP stack.
"""

from __future__ import annotations

from graph.fast.execution import PLANS, FastExecutionContext, enabled, standard
from graph.fast.fields import loads
from graph.fast.front import FastFront, RememberQueries
from graph.fast.projection import (
    connection_attributes,
    declare,
    reads,
    selected_attributes,
    whole_documents,
)

__all__ = [
    "PLANS",
    "FastExecutionContext",
    "FastFront",
    "RememberQueries",
    "connection_attributes",
    "declare",
    "enabled",
    "loads",
    "reads",
    "selected_attributes",
    "standard",
    "whole_documents",
]
