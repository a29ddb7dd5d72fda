"""The OVAL engine knows nothing of its results writer: `oval/engine.py` returns result
objects, `oval/results.py` renders them (and may import the engine, never the reverse).
Every import statement counts, also one inside a function (a lazy import is still a
dependency), so this reads the source rather than `sys.modules`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return "stigscap." + ".".join(rel.parts)


def imports_of(path: Path, package: str | None = None) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved), with the
    imported names too (`from . import results` → stigscap.evaluator.oval.results).
    `package`: the package the file is in (default: from its place in the repository)."""
    package = package or _module_name(path).rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            mod = (base + ("." + node.module if node.module else "")) if node.level else \
                (node.module or "")
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def test_imports_of_sees_lazy_and_relative_imports(tmp_path):
    """The checker itself: a lazy relative import inside a method is found."""
    src = tmp_path / "engine.py"
    src.write_text("class A:\n    def f(self):\n        from .results import x\n"
                   "        from . import logic\n", encoding="utf-8")
    got = imports_of(src, "stigscap.evaluator.oval")
    assert "stigscap.evaluator.oval.results" in got
    assert "stigscap.evaluator.oval.logic" in got


@pytest.mark.parametrize("engine", ["evaluator/oval/engine.py", "evaluator/oval/logic.py",
                                    "evaluator/oval/values.py", "evaluator/oval/compare.py"])
def test_oval_engine_does_not_import_its_results_writer(engine):
    got = imports_of(ROOT / engine)
    assert not {m for m in got if m.startswith("stigscap.evaluator.oval.results")}, got


def test_results_writer_is_above_the_engine():
    """The writer may use the engine's types; callers (CLI, ARF) call the writer."""
    writer = imports_of(ROOT / "evaluator" / "oval" / "results.py")
    assert not {m for m in writer if m.startswith("stigscap.evaluator.oval.results")}
    for caller in ("evaluator/cli/oval.py", "evaluator/results/arf.py"):
        assert "stigscap.evaluator.oval.results" in imports_of(ROOT / caller), caller
