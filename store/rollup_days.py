"""Apps with a license expiring within N days, exact, from per-day counters.

An app is in the window W = [t, t + N days] when one of its licenses expires in W; it counts
once however many do. Sort an app's expiries e1 <= e2 <= ... and call e(i-1) the
*predecessor* of e(i) (e1 has none). The licenses of one app inside W are a contiguous run
of that order (W is an interval), and exactly one of them, the first, has its predecessor
before t (or none). So, exactly and for distinct apps::

    apps(W) = #{ licenses e in W whose predecessor p is < t or missing }

Each license is kept in the counter document of its (hosting, UTC day), ``rollup_days``
``_id = "HOSTING:YYYY-MM-DD"``, with:

- ``prev.<day of p | none>``: licenses expiring that day, by their predecessor's day;
- ``exact.<e ms>:<p ms | none>``: the same licenses at millisecond precision;
- on the predecessor's day document, ``next.<p ms>:<day of e>``: by successor's day.

With T0 = day(t) and T1 = day(t + N) (read ``T0..T1``: N + 1 documents per hosting)::

    apps(W) = exact(T0) + exact(T1)                                   (T0 < T1)
            + sum over T0 < D < T1 of prev_D[none] + prev_D[d] for d < T0
            + #{ next_T0 entries (p, D): p < t and T0 < D < T1 }

where exact(X) counts X's ``exact`` entries with t <= e <= t + N and p < t (or none); when
T0 = T1 it is exact(T0) alone. Interior days need only day keys (a map bounded by the
number of days, not apps); millisecond detail is read on the two boundary days only. The
keys are absolute days, so the count stays right as days pass with no write.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

DAYS = "rollup_days"
NONE = "none"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

Fields = dict[str, int]


def ms(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // _MS


def day(value: int) -> str:
    return (_EPOCH + value * _MS).strftime("%Y-%m-%d")


def key(hosting: str, label: str) -> str:
    return f"{hosting}:{label}"


def add(into: dict[str, Fields], hosting: str, expiries: Iterable[int], sign: int) -> None:
    """Add (sign 1) or take away (-1) one app's licenses (expiries in ms) to ``into``:
    counter key -> field path -> increment."""
    previous: int | None = None
    for expiry in sorted(expiries):
        mine = into.setdefault(key(hosting, day(expiry)), {})
        before = NONE if previous is None else day(previous)
        exact = f"exact.{expiry}:{NONE if previous is None else previous}"
        for name in ("count", f"prev.{before}", exact):
            mine[name] = mine.get(name, 0) + sign
        if previous is not None:
            theirs = into.setdefault(key(hosting, day(previous)), {})
            name = f"next.{previous}:{day(expiry)}"
            theirs[name] = theirs.get(name, 0) + sign
        previous = expiry


def labels(since: datetime, until: datetime) -> list[str]:
    """The UTC days from ``since``'s to ``until``'s, both included."""
    first: date = since.astimezone(UTC).date()
    last: date = until.astimezone(UTC).date()
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _exact(doc: dict[str, Any], start: int, end: int) -> int:
    found = 0
    for name, count in (doc.get("exact") or {}).items():
        expiry, _, previous = name.partition(":")
        if start <= int(expiry) <= end and (previous == NONE or int(previous) < start):
            found += int(count)
    return found


def count(
    docs: dict[str, dict[str, Any]], since: datetime, until: datetime, days: list[str]
) -> int:
    """Apps of one hosting with a license expiring in [since, until], from the day documents
    of ``days`` (:func:`labels`; ``docs``: label -> document; a missing day counts nothing)."""
    start, end = ms(since), ms(until)
    first, last = days[0], days[-1]
    total = _exact(docs.get(first, {}), start, end)
    if first == last:
        return total
    total += _exact(docs.get(last, {}), start, end)
    for label in days[1:-1]:
        for before, number in (docs.get(label, {}).get("prev") or {}).items():
            if before == NONE or before < first:
                total += int(number)
    inside = set(days[1:-1])
    for name, number in (docs.get(first, {}).get("next") or {}).items():
        previous, _, successor = name.partition(":")
        if int(previous) < start and successor in inside:
            total += int(number)
    return total
