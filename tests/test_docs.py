"""Every ```graphql and ```sh example in README.md and docs/*.md runs as written against the
demo data, without errors. A block whose info string has the word ``norun`` (```sh norun)
is deliberately not run (the text around it says why): starting servers, long jobs, pasting
a token. A block marked ``refused`` (```graphql refused) shows a refusal: it must run and
answer an error or a userError with a code.

Per file: fresh demo data (ownership/demo.py), the app served by uvicorn on a loopback port;
GraphQL blocks are POSTed to it with a Support token; shell blocks run in bash (-euo
pipefail) from the repository root with ``TOKEN`` (Support), ``CONTACT_TOKEN`` (the demo's
technical contact) and ``NODE_TOKEN`` (the cloud node of the first Mendix Cloud app) set,
``http://127.0.0.1:8000`` pointing at the served app and the CLI on a scratch embedded file.
Also: the demo banner's ``export TOKEN=...`` line gives a working token.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import served

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
RUNNABLE = {"graphql": "graphql", "sh": "sh", "bash": "sh", "shell": "sh"}
DEMO_URL = "http://127.0.0.1:8000"


@dataclass
class Block:
    page: Path
    line: int
    kind: str
    text: str
    refused: bool = False

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line} ({self.kind})"


def blocks(page: Path) -> list[Block]:
    source = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(source):
        words = match.group(1).split()
        if not words or words[0] not in RUNNABLE or "norun" in words:
            continue
        line = source.count("\n", 0, match.start()) + 1
        found.append(Block(page, line, RUNNABLE[words[0]], match.group(2), "refused" in words))
    return found


@dataclass
class Demo:
    url: str
    tokens: dict[str, str] = field(default_factory=dict)


async def _seed(db: Any, demo: Demo) -> None:
    from ownership.demo import CONTACT_EMAIL, SUPPORT_EMAIL, load_demo
    from store import people as people_store
    from store import tokens

    await load_demo(db)
    for name, email in (("TOKEN", SUPPORT_EMAIL), ("CONTACT_TOKEN", CONTACT_EMAIL)):
        person = await people_store.get_person_by_email(db, email)
        assert person is not None
        demo.tokens[name] = await tokens.create_token(db, person.id)
    cloud = await db["apps"].find_one({"hosting": "MENDIX_CLOUD"}, sort=[("_id", 1)])
    demo.tokens["NODE_TOKEN"] = await tokens.create_node_token(db, cloud["_id"])


@pytest.fixture
def demo() -> Iterator[Demo]:
    from graph.app import create_app
    from store.db import connect

    demo = Demo(url="")

    def make_app(url: str) -> Any:
        demo.url = url
        return create_app(lambda: connect(None), lambda store: _seed(store.db, demo))

    with served(make_app, wait=30):
        yield demo


def _run_graphql(demo: Demo, block: Block) -> None:
    response = httpx.post(
        demo.url + "/graphql",
        json={"query": block.text},
        headers={"Authorization": f"Bearer {demo.tokens['TOKEN']}"},
        timeout=60,
    )
    body = response.json()
    if block.refused:
        assert '"code"' in response.text, f"{block} was not refused: {body}"
        return
    assert response.status_code == 200 and "errors" not in body, f"{block}: {body}"
    assert body.get("data"), f"{block}: no data"
    assert '"code"' not in response.text, f"{block} was refused: {body}"


def _run_shell(demo: Demo, block: Block, scratch: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(scratch),
        "OWNERSHIP_DATA_FILE": str(scratch / "embedded.json"),
        **demo.tokens,
    }
    script = block.text.replace(DEMO_URL, demo.url)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{block} exited {done.returncode}:\n{output}"
    if block.refused:
        assert '"code"' in done.stdout, f"{block} was not refused:\n{output}"
        return
    assert '"errors"' not in done.stdout, f"{block} answered errors:\n{output}"
    # a refused mutation answers userErrors, each with a code
    assert '"code"' not in done.stdout, f"{block} was refused:\n{output}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_examples_run_against_the_demo_data(demo: Demo, page: Path, tmp_path: Path) -> None:
    runnable = blocks(page)
    if any(block.kind == "sh" for block in runnable):
        for tool in ("curl", "jq"):
            assert shutil.which(tool), f"{tool} is needed by the shell examples"
    for block in runnable:
        if block.kind == "graphql":
            _run_graphql(demo, block)
        else:
            _run_shell(demo, block, tmp_path)


# Pages linked from docs/index.md before they exist (none now: every page has landed)
PENDING: set[str] = set()


def test_every_page_is_linked_and_every_link_resolves() -> None:
    linked: set[Path] = set()
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            path = (page.parent / target).resolve()
            pending = path.parent == ROOT / "docs" and path.name in PENDING
            assert path.exists() or pending, f"{page.relative_to(ROOT)} links to missing {target}"
            linked.add(path)
    for page in PAGES[1:]:
        assert page.resolve() in linked, f"nothing links to {page.relative_to(ROOT)}"


def test_the_readme_is_a_short_start(capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 120
    for needed in ("make run", "make test", "export TOKEN", "docs/index.md"):
        assert needed in text, needed


async def test_the_demo_banner_prints_a_working_token(
    store: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from dataclasses import replace

    from ownership.cli import _demo_banner
    from ownership.config import Settings
    from resolvers.auth import authenticate

    # the banner keeps its tokens beside the data file (data/demo-tokens.json): a scratch one
    settings = replace(Settings.from_env(demo=True), data_file=tmp_path / "embedded.json")
    await _demo_banner(store, settings)
    out = capsys.readouterr().out
    exported = re.search(r"^In a shell: export TOKEN=(mxo_\S+)$", out, re.MULTILINE)
    assert exported is not None, out
    viewer = await authenticate(store.db, f"Bearer {exported.group(1)}")
    assert viewer is not None and viewer.is_support
    assert f"/graphql#token={exported.group(1)}" in out
