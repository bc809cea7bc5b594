"""The docs name what exists now: no deprecated GraphQL field offered as the way to do
something, and no file that is gone (docs/, README.md and bench/queries.py's docstring)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from graphql import GraphQLObjectType

from graph.schema import schema

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
FILE = re.compile(
    r"(?<![\w./-])((?:graph|resolvers|store|ownership|bench|tests|docs|ide)/[\w./-]*?"
    r"\.(?:py|js|json|graphql|md|css|html))(?![\w.])"
)


def _deprecated_fields() -> set[str]:
    found = set()
    for graphql_type in schema._schema.type_map.values():
        if isinstance(graphql_type, GraphQLObjectType):
            for name, field in graphql_type.fields.items():
                if field.deprecation_reason:
                    found.add(name)
    return found


def test_docs_never_offer_a_deprecated_field() -> None:
    """A deprecated field may appear in a permission table row (every field has one) or on a
    line that says it is deprecated; never as the way to do something."""
    deprecated = _deprecated_fields()
    assert "reportMetrics" in deprecated  # the check is live
    mentions = [
        f"{page.name}:{number}: {name}"
        for page in PAGES
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        if not line.startswith("| `") and "deprecated" not in line
        for name in deprecated
        if f"`{name}`" in line
    ]
    assert mentions == []


def test_docs_and_the_bench_docstring_name_files_that_exist() -> None:
    texts = {page: page.read_text(encoding="utf-8") for page in PAGES}
    bench = ROOT / "bench" / "queries.py"
    texts[bench] = ast.get_docstring(ast.parse(bench.read_text(encoding="utf-8"))) or ""
    missing = [
        f"{path.relative_to(ROOT)}: {name}"
        for path, text in texts.items()
        for name in FILE.findall(text)
        if not (ROOT / name).exists()
    ]
    assert missing == []
