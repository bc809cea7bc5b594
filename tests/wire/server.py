"""Run a MongoDB-compatible wire server (mongoeco, memory engine) for tests.

mongoeco needs Python >= 3.13 while the project runs on 3.11, so the server
lives in its own virtualenv (built from pyenv's 3.13.0) and runs as a separate
process (``run_server.py``). Only the standard library is used here.

Usage::

    with WireServer() as server:
        client = pymongo.AsyncMongoClient(server.uri, tz_aware=True)
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

MONGOECO_VERSION = "4.11.0"
# The "wire" extra pulls in pymongo's ``bson`` package; without it the wire
# protocol fails at runtime with "wire protocol requires the optional
# 'pymongo'/'bson' dependency".
MONGOECO_REQUIREMENT = f"mongoeco[wire]=={MONGOECO_VERSION}"
PYTHON_VERSION = "3.13.0"

HERE = Path(__file__).resolve().parent
RUN_SERVER_SCRIPT = HERE / "run_server.py"
DEFAULT_VENV_PATH = HERE.parent.parent / ".venv-wire"
ENV_PYTHON_OVERRIDE = "WIRE_PYTHON313"  # optional explicit interpreter path


class WireServerError(RuntimeError):
    """The wire server's environment could not be built or it failed to start."""


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _site_packages(venv: Path) -> Path:
    return venv / "lib" / "python3.13" / "site-packages"


def _is_installed(venv: Path) -> bool:
    """Cheap check (no subprocess) that the venv has mongoeco + bson installed."""
    site = _site_packages(venv)
    return (
        _venv_python(venv).exists()
        and (site / f"mongoeco-{MONGOECO_VERSION}.dist-info").is_dir()
        and (site / "bson").is_dir()
    )


def find_python313() -> Path:
    """Locate the pyenv Python 3.13 interpreter (the ``python3.13`` shim is unusable)."""
    candidates: list[Path] = []
    override = os.environ.get(ENV_PYTHON_OVERRIDE)
    if override:
        candidates.append(Path(override))
    roots: list[Path] = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            out = subprocess.run(
                [pyenv, "root"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                roots.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    if os.environ.get("PYENV_ROOT"):
        roots.append(Path(os.environ["PYENV_ROOT"]))
    roots.append(Path.home() / ".pyenv")
    for root in roots:
        candidates.append(root / "versions" / PYTHON_VERSION / "bin" / "python3.13")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    tried = "\n  ".join(str(c) for c in candidates)
    raise WireServerError(
        f"Python {PYTHON_VERSION} interpreter for the mongoeco wire server not found. "
        f"Tried:\n  {tried}\nInstall it with `pyenv install {PYTHON_VERSION}` or set "
        f"{ENV_PYTHON_OVERRIDE}=/path/to/python3.13."
    )


def ensure_venv(path: Path = DEFAULT_VENV_PATH) -> Path:
    """Create/repair the wire-server virtualenv; return its Python interpreter.

    Idempotent and fast (a few stat calls) when already set up. Safe to call
    from several processes at once (e.g. pytest-xdist workers): creation is
    serialised with a file lock next to the venv.
    """
    path = Path(path).absolute()
    if _is_installed(path):
        return _venv_python(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Lock file lives in the temp dir so nothing extra appears in the repo.
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"wire-venv-{digest}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_installed(path):  # another process finished it meanwhile
            return _venv_python(path)
        if not _venv_python(path).exists():
            base = find_python313()
            _run([str(base), "-m", "venv", "--clear", str(path)], "create venv")
        _run(
            [
                str(_venv_python(path)),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
                MONGOECO_REQUIREMENT,
            ],
            f"pip install {MONGOECO_REQUIREMENT}",
        )
        if not _is_installed(path):
            raise WireServerError(
                f"{MONGOECO_REQUIREMENT} installed into {path} but not found afterwards"
            )
    return _venv_python(path)


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise WireServerError(
            f"wire server setup failed ({what}), exit {proc.returncode}:\n"
            f"$ {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
        )


class WireServer:
    """A mongoeco wire server in a child process.

    Use as a context manager (sync ``with`` or ``async with``) or call
    ``start()`` / ``stop()``. ``uri`` is ``mongodb://127.0.0.1:PORT/``.
    Every server has its own fresh in-memory engine.
    """

    def __init__(
        self,
        venv: Path = DEFAULT_VENV_PATH,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        start_timeout: float = 60.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.venv = Path(venv)
        self.host = host
        self.port = port
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def uri(self) -> str:
        if self._proc is None:
            raise RuntimeError("WireServer is not running")
        return f"mongodb://{self.host}:{self.port}/"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> WireServer:
        if self._proc is not None:
            return self
        python = ensure_venv(self.venv)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONUNBUFFERED"] = "1"
        self._proc = subprocess.Popen(
            [
                str(python),
                "-I",  # isolated: ignore PYTHONPATH/user site of the 3.11 project
                str(RUN_SERVER_SCRIPT),
                str(self.port),
                "--host",
                self.host,
                "--exit-on-stdin-eof",  # dies with us even if we are SIGKILLed
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            close_fds=True,
        )
        try:
            self.port = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> int:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        deadline = time.monotonic() + self.start_timeout
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(stdout, selectors.EVENT_READ)
            while b"\n" not in buf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WireServerError(
                        f"wire server did not report READY within {self.start_timeout}s"
                        + self._diagnostics(buf)
                    )
                if not sel.select(timeout=min(remaining, 0.5)):
                    if self._proc.poll() is not None:
                        raise WireServerError(
                            f"wire server exited with code {self._proc.returncode} "
                            "before READY" + self._diagnostics(buf)
                        )
                    continue
                chunk = os.read(stdout.fileno(), 4096)
                if not chunk:
                    self._proc.wait(timeout=5)
                    raise WireServerError(
                        f"wire server exited with code {self._proc.returncode} "
                        "before READY" + self._diagnostics(buf)
                    )
                buf += chunk
        line = buf.split(b"\n", 1)[0].decode(errors="replace").strip()
        parts = line.split()
        if len(parts) != 2 or parts[0] != "READY" or not parts[1].isdigit():
            raise WireServerError(
                f"unexpected wire server output {line!r}" + self._diagnostics(buf)
            )
        return int(parts[1])

    def _diagnostics(self, stdout: bytes) -> str:
        err = b""
        if self._stderr is not None:
            self._stderr.flush()
            self._stderr.seek(0)
            err = self._stderr.read()
        return (
            f"\n--- server stdout ---\n{stdout.decode(errors='replace')}"
            f"\n--- server stderr ---\n{err.decode(errors='replace')}"
        )

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Async variants run the blocking start/stop in a thread so an event loop
    # (e.g. an async pytest fixture) is not blocked while the server boots.
    async def __aenter__(self) -> WireServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


if __name__ == "__main__":  # manual smoke test: python -m tests.wire.server
    with WireServer() as srv:
        print(srv.uri, file=sys.stderr)
