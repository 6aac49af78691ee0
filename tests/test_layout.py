"""The house rules on imports, checked on the source: ``stores/`` keeps data and never knows how
it is made (no ``synth/`` or ``filters/``), and stages never know about orchestration."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(folder: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(path.relative_to(ROOT).as_posix(), a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((path.relative_to(ROOT).as_posix(), node.module))
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [("stores", ("synth", "filters", "flows", "prefect")), ("filters", ("flows", "prefect")),
     ("synth", ("flows", "prefect"))],
)
def test_folder_imports_respect_the_layout(folder, forbidden):
    bad = [(f, m) for f, m in _imports(folder) if m.split(".")[0] in forbidden]
    assert bad == [], f"{folder}/ must not import {forbidden}: {bad}"
