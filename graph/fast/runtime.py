"""Run-time pieces of the compiled read path: completers mirroring graphql-core's
``complete_value`` for non-null, leaf and list types, awaitable gathering, and the batched
loading of references (``drain``).

Paths are lazy: compiled code passes plain ``(prev, key, typename)`` tuples down and only
turns them into graphql-core ``Path`` objects (``real``) where an error is reported or a
value is handed to the standard completion, so values completed without error build none."""

from __future__ import annotations

import binascii
from datetime import datetime
from types import CoroutineType, GeneratorType
from typing import Any

from bson import ObjectId
from graphql import (
    GraphQLObjectType,
)
from graphql.execution.executor import Executor, to_nodes
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.dataloader import DataLoader, DefaultCache
from strawberry.exceptions import WrongNumberOfResultsReturned


def real(path: Any) -> Any:
    """The graphql-core ``Path`` of a lazy path (a ``(prev, key, typename)`` tuple)."""
    if type(path) is not tuple:
        return path  # a Path (a tuple subclass) or None
    return Path(real(path[0]), path[1], path[2])


def slow_completer(rtype: Any, group: Any, parent: GraphQLObjectType, field_def: Any) -> Any:
    """The standard completion of one value, with the info standard execution would build."""

    def slow(ex: Any, value: Any, path: Any, fpath: Any) -> Any:
        info = ex.build_resolve_info(field_def, to_nodes(group), parent, real(fpath))
        return Executor.complete_value(ex, rtype, group, info, real(path), value, None)

    return slow


def non_null_completer(inner: Any, message: str) -> Any:
    def complete(ex: Any, value: Any, path: Any, fpath: Any) -> Any:
        completed = inner(ex, value, path, fpath)
        if completed is None:
            raise TypeError(message)
        return completed

    complete.inner = inner  # type: ignore[attr-defined]
    complete.message = message  # type: ignore[attr-defined]
    return complete


def leaf_completer(rtype: Any, slow: Any) -> Any:
    coerce = rtype.coerce_output_value

    def complete(ex: Any, value: Any, path: Any, fpath: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None:
            return None
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            return slow(ex, value, path, fpath)  # raises the standard TypeError
        return coerced

    return complete


def list_completer(inner: Any, item_type: Any, group: Any, slow: Any) -> Any:
    """Mirrors ``complete_list_value`` / ``complete_iterable_value`` for lists and tuples."""
    # Non-null items: call the item completer directly and check for null here.
    direct = getattr(inner, "inner", None)
    message = getattr(inner, "message", "")

    def complete(ex: Any, value: Any, path: Any, fpath: Any) -> Any:
        if value is None:
            return None
        kind = type(value)
        if kind is not list and kind is not tuple:
            return slow(ex, value, path, fpath)
        for item in value:
            if type(item) not in _PLAIN and _awaitable_kind(ex, item):
                return slow(ex, value, path, fpath)  # standard completion awaits items first
        return finish(ex, value, path, fpath, [], 0)

    def finish(ex: Any, value: Any, path: Any, fpath: Any, results: list[Any], index: int) -> Any:
        """Complete ``value[index:]`` after ``results`` (items none of which is awaitable)."""
        append = results.append
        pending: list[int] | None = None
        try:
            for item in value[index:] if index else value:
                try:
                    if direct is not None:
                        completed = direct(ex, item, (path, index, None), fpath)
                        if completed is None:
                            raise TypeError(message)
                    else:
                        completed = inner(ex, item, (path, index, None), fpath)
                    kind = type(completed)
                    if kind is not dict and kind not in _PLAIN and ex.is_awaitable(completed):
                        item_path = (path, index, None)
                        completed = _await_item(ex, completed, item_type, group, item_path)
                        if pending is None:
                            pending = []
                        pending.append(index)
                except Exception as error:
                    ex.handle_field_error(error, item_type, group, (path, index, None))
                    completed = None
                append(completed)
                index += 1
        except Exception:
            if pending:
                ex.settle_in_background([results[index] for index in pending])
            raise
        if pending is None:
            return results
        return _gather_list(results, pending)

    complete.item = inner  # type: ignore[attr-defined]
    complete.finish = finish  # type: ignore[attr-defined]
    return complete


def id_encoder(type_name: str) -> Any:
    """relay's global ID of an ObjectId (base64 of ``Type:hex``), remembered in ``memo``."""
    prefix = f"{type_name}:"
    b2a = binascii.b2a_base64

    def encode(memo: dict[bytes, str], key: ObjectId) -> str:
        raw = key._ObjectId__id  # type: ignore[attr-defined]
        encoded = memo[raw] = b2a((prefix + raw.hex()).encode(), newline=False).decode()
        return encoded

    return encode


def fill_rest(complete: Any) -> Any:
    """What a fill function hands over: the loaded list completed the standard-mirroring way."""

    def rest(ex: Any, records: dict[Any, Any], value: Any, path: Any) -> Any:
        found = [records[_key(k)] for k in value]
        return complete(ex, [record for record in found if record is not None], path, path)

    return rest


_PLAIN: set[type] = {dict, list, str, int, float, bool, type(None), ObjectId, datetime}


def _awaitable_kind(ex: Any, item: Any) -> bool:
    """Whether ``item`` is awaitable; types that never are get remembered in _PLAIN."""
    if ex.is_awaitable(item):
        return True
    kind = type(item)
    if (
        not hasattr(kind, "__await__")
        and not isinstance(item, GeneratorType | CoroutineType)
        and len(_PLAIN) < 1000
    ):
        _PLAIN.add(kind)
    return False


async def _gather_list(results: list[Any], pending: list[int]) -> list[Any]:
    if len(pending) == 1:
        index = pending[0]
        results[index] = await results[index]
    else:
        awaited = await gather_with_cancel(*(results[index] for index in pending))
        for index, value in zip(pending, awaited, strict=True):
            results[index] = value
    return results


async def gather_object(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    if len(pending) == 1:
        key = pending[0]
        results[key] = await results[key]
    else:
        awaited = await gather_with_cancel(*(results[key] for key in pending))
        results.update(zip(pending, awaited, strict=True))
    return results


async def await_completed(ex: Any, completed: Any, rtype: Any, group: Any, path: Any) -> Any:
    try:
        return await completed
    except Exception as error:
        ex.handle_field_error(error, rtype, group, path)
        return None


def _key(key: Any) -> Any:
    """A dict key equal for equal loader keys (ObjectId: its bytes; else type and value)."""
    return key._ObjectId__id if type(key) is ObjectId else (type(key), key)


async def drain(ex: Any, result: Any, loads: list[Any]) -> Any:
    """Load every registered reference in one batch per loader and round, then complete.

    Entries are ``(loader, mode, keys, dict, key, function, path)``; mode bit 1: a list of
    keys (else one key), bit 2: ``function`` is a generated fill (records in, value out),
    else the completer of the loaded value.

    Any error here marks the operation for a standard re-run (see FastExecutionContext).
    """
    if ex.is_awaitable(result):
        result = await result
    loaders = ex.context_value.loaders
    while loads:
        batch = loads[:]
        loads.clear()
        wanted: dict[str, list[Any]] = {}
        for loader, mode, value, *_rest in batch:
            flat = wanted.get(loader)
            if flat is None:
                flat = wanted[loader] = []
            if mode & 1:  # many
                flat.extend(value)
            else:
                flat.append(value)
        found: dict[str, dict[Any, Any]] = {}
        try:  # an unhashable key fails here as it fails in the loader: re-run the standard way
            # one key per equal key, in first-seen order (an equal later key may stand for it)
            keys = {
                loader: {k._ObjectId__id if type(k) is ObjectId else (type(k), k): k for k in flat}
                for loader, flat in wanted.items()
            }
            for loader, index in keys.items():
                records = await load_batch(getattr(loaders, loader), list(index.values()))
                found[loader] = dict(zip(index, records, strict=True))
        except Exception as error:
            for *_entry, path in batch:
                ex.mark_dirty(error, path)
            return result
        pending = []
        memo: dict[int, dict[Any, Any]] = {}  # fill functions' items of this round
        previous, ex._loads = ex._loads, loads
        try:
            for loader, mode, value, d, key, complete, path in batch:
                records = found[loader]
                if mode & 2:  # a fill function builds the item or the whole list
                    try:
                        completed = complete(ex, records, value, path, memo)
                    except Exception as error:
                        ex.mark_dirty(error, path)
                        completed = None
                    d[key] = completed
                    continue
                if mode:  # many
                    item = [
                        record
                        for record in [
                            records[k._ObjectId__id if type(k) is ObjectId else (type(k), k)]
                            for k in value
                        ]
                        if record is not None
                    ]
                else:
                    item = records[_key(value)]
                try:
                    completed = complete(ex, item, path, path)
                except Exception as error:
                    ex.mark_dirty(error, path)
                    completed = None
                kind = type(completed)
                if kind is not list and kind not in _PLAIN and ex.is_awaitable(completed):
                    pending.append((d, key, completed))
                d[key] = completed
        finally:
            ex._loads = previous
        for d, key, completed in pending:
            try:
                d[key] = await completed
            except Exception as error:
                ex.mark_dirty(error, None)
                d[key] = None
    return result


_IDENTITY_CODE = DefaultCache().cache_key_fn.__code__  # DefaultCache's ``lambda x: x``


async def load_batch(loader: Any, keys: list[Any]) -> list[Any]:
    """What ``loader.load_many(keys)`` returns, cached exactly as DataLoader caches it, but
    with one direct ``load_fn`` call for the keys not cached yet instead of a future, a batch
    task and a loop tick per key. Anything but a plain caching DataLoader uses load_many."""
    if (
        type(loader) is not DataLoader
        or not loader.cache
        or loader.max_batch_size
        or not isinstance(loader.cache_map, DefaultCache)
    ):
        return await loader.load_many(keys)
    cache = loader.cache_map
    futures = []
    missing: list[tuple[Any, Any]] = []
    if type(cache) is DefaultCache:  # its get/set, inlined
        cache_map, key_fn = cache.cache_map, cache.cache_key_fn
        identity = getattr(key_fn, "__code__", None) is _IDENTITY_CODE
        create = loader.loop.create_future
        for key in keys:
            cache_key = key if identity else key_fn(key)
            future = cache_map.get(cache_key)
            if not future or future.cancelled():
                future = cache_map[cache_key] = create()
                missing.append((key, future))
            futures.append(future)
    else:
        for key in keys:
            future = cache.get(key)
            if not future or future.cancelled():
                future = loader.loop.create_future()
                cache.set(key, future)
                missing.append((key, future))
            futures.append(future)
    if missing:
        try:  # mirrors strawberry's dispatch_batch: per-key exceptions, a failed batch
            values = list(await loader.load_fn([key for key, _future in missing]))
            if len(values) != len(missing):
                raise WrongNumberOfResultsReturned(expected=len(missing), received=len(values))
            for (_key, future), value in zip(missing, values, strict=True):
                if isinstance(value, BaseException):
                    future.set_exception(value)
                else:
                    future.set_result(value)
        except Exception as error:
            for _key, future in missing:
                if not future.done():
                    future.set_exception(error)
    return [future.result() if future.done() else await future for future in futures]


async def _await_item(ex: Any, completed: Any, item_type: Any, group: Any, path: Any) -> Any:
    try:
        return await completed
    except Exception as error:
        ex.handle_field_error(error, item_type, group, path)
        return None
