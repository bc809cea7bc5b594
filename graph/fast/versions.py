"""The dependency versions the fast read path was verified against.

The compiled executor, the projections and the front mirror internals of graphql-core's
executor and strawberry's execution and HTTP layers. On any other installed version the
package turns itself off (graph/fast/__init__.py): standard execution, whole documents, no
front, one warning at startup. To verify a new version: install it, run
``OWNERSHIP_VERIFY_FAST=1 make test`` (the differential tests run whatever is installed),
read the dependency's changes to the mirrored code, then add it here.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

VERIFIED_WITH: dict[str, frozenset[str]] = {
    "graphql-core": frozenset({"3.3.2"}),
    "strawberry-graphql": frozenset({"0.341.2"}),
}


def installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def unverified() -> dict[str, str | None]:
    """The dependencies whose installed version was not verified: name -> installed."""
    found = {name: installed(name) for name in VERIFIED_WITH}
    return {name: got for name, got in found.items() if got not in VERIFIED_WITH[name]}
