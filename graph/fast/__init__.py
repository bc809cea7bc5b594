"""The fast read path, one package behind this door.

Domain modules and the application import only what is listed in ``__all__`` here;
``tests/test_layers.py`` fails when a module outside ``graph/fast/`` imports one of its
submodules. Inside:

- ``execution``: the compiled executor (``FastExecutionContext``) and its plan cache;
- ``compile`` / ``runtime`` / ``fields``: code generation, batched loads, field analysis;
- ``projection``: which stored keys a selection reads (``reads``, ``declare``);
- ``front``: the ASGI front that answers known documents without the HTTP stack;
- ``warm``: ``prepare`` puts a document known before any request (a trusted document)
  into the front's memory and the plan cache.
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
from graph.fast.warm import prepare

__all__ = [
    "PLANS",
    "FastExecutionContext",
    "FastFront",
    "RememberQueries",
    "connection_attributes",
    "declare",
    "enabled",
    "loads",
    "prepare",
    "reads",
    "selected_attributes",
    "standard",
    "whole_documents",
]
