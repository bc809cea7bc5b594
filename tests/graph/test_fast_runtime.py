"""The compiled path's batched loads: the same values, errors and cache as load_many."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from strawberry.dataloader import DataLoader

from graph.fast.runtime import load_batch

pytestmark = pytest.mark.fast_path  # checks the fast path itself: off in `make test-standard`


def _loader(values: Any, calls: list[list[int]]) -> DataLoader[int, Any]:
    async def load(keys: list[int]) -> Any:
        calls.append(list(keys))
        if isinstance(values, Exception):
            raise values
        return values(keys)

    return DataLoader(load_fn=load)


async def _both(values: Any, keys: list[int], cached: list[int]) -> list[Any]:
    """(outcome, calls, cached outcome) of load_many and of load_batch."""
    outcomes = []
    for run in (lambda loader: loader.load_many(keys), lambda loader: load_batch(loader, keys)):
        calls: list[list[int]] = []
        loader = _loader(values, calls)
        if cached:
            with contextlib.suppress(Exception):  # a failure is cached too
                await loader.load_many(cached)
        try:
            outcome: Any = await run(loader)
        except Exception as error:
            outcome = (type(error), str(error))
        again = []
        for key in keys:
            try:
                again.append(await loader.load(key))
            except Exception as error:
                again.append((type(error), str(error)))
        outcomes.append((outcome, calls, again))
    return outcomes


@pytest.mark.parametrize(
    "values",
    [
        lambda keys: [key * 10 for key in keys],
        lambda keys: [ValueError(key) if key == 2 else key for key in keys],
        lambda keys: keys[:-1],
        RuntimeError("down"),
    ],
    ids=["values", "per-key error", "wrong count", "failed batch"],
)
@pytest.mark.parametrize("cached", [[], [1], [1, 2, 3]])
async def test_load_batch_matches_load_many(values: Any, cached: list[int]) -> None:
    standard, batched = await _both(values, [1, 2, 3], cached)
    assert batched == standard
