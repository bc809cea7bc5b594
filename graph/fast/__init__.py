"""The fast read path, one package behind this door.

Domain modules and the application import only what ``__all__`` lists here;
tests/test_layers.py fails when a module outside ``graph/fast/`` imports one of its
submodules. Inside:

- ``switches``: the on/off switches and the field declarations (``loads``, ``reads``,
  ``declare``), safe on any dependency version;
- ``versions``: the versions it was verified against; on any other version the package
  turns itself off (``off``: standard execution, whole documents, a front that hands every
  request on) and says so once at startup;
- ``execution`` / ``compile`` / ``runtime`` / ``fields``: the compiled executor;
- ``projection``: which stored keys a selection reads;
- ``front``: the ASGI front that answers known documents without the HTTP stack (under the
  Guard, on the server's own channel: ``FastFront.guarded``); ``remember``: the documents it
  knows; ``body``: reading and replaying a request's body;
- ``warm``: ``prepare`` puts a document known before any request (a trusted document)
  into the front's memory and the plan cache.
"""

from __future__ import annotations

import logging
import os

from graph.fast.switches import declare, enabled, loads, reads, standard, whole_documents
from graph.fast.versions import VERIFIED_WITH, unverified

UNVERIFIED = unverified()
# OWNERSHIP_VERIFY_FAST=1 runs it on unverified versions: for verifying them, never in production
ACTIVE = not UNVERIFIED or os.environ.get("OWNERSHIP_VERIFY_FAST") == "1"

if ACTIVE:
    from graph.fast.execution import PLANS, FastExecutionContext
    from graph.fast.front import FastFront, RememberQueries
    from graph.fast.projection import connection_attributes, selected_attributes
    from graph.fast.warm import prepare
else:
    from graph.fast.off import (
        PLANS,
        FastExecutionContext,
        FastFront,
        RememberQueries,
        connection_attributes,
        prepare,
        selected_attributes,
    )

    logging.getLogger(__name__).warning(
        "fast read path off (standard execution): installed %s, verified with %s",
        ", ".join(f"{name} {got}" for name, got in sorted(UNVERIFIED.items())),
        ", ".join(f"{name} {' / '.join(sorted(v))}" for name, v in sorted(VERIFIED_WITH.items())),
    )

__all__ = [
    "ACTIVE",
    "PLANS",
    "UNVERIFIED",
    "VERIFIED_WITH",
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
