"""Settings from the environment, read once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    mongodb_uri: str | None
    db_name: str
    data_file: Path | None
    host: str
    port: int
    demo: bool = False
    notice_interval: float = 300.0
    # OWNERSHIP_JOURNAL=0 turns the embedded journal off: writes acknowledged since the last
    # snapshot (about a second) are lost on a crash. For measuring the journal's cost only.
    journal: bool = True

    @classmethod
    def from_env(cls, *, demo: bool = False) -> Settings:
        data = os.environ.get("OWNERSHIP_DATA_FILE", "data/embedded.json")
        return cls(
            mongodb_uri=os.environ.get("MONGODB_URI") or None,
            db_name=os.environ.get("OWNERSHIP_DB", "ownership"),
            data_file=Path(data) if data else None,
            host=os.environ.get("HOST", "127.0.0.1"),
            port=int(os.environ.get("PORT", "8000")),
            demo=demo,
            notice_interval=float(os.environ.get("NOTICE_INTERVAL_SECONDS", "300")),
            journal=os.environ.get("OWNERSHIP_JOURNAL", "1").strip().lower()
            not in ("0", "false", "no", "off"),
        )
