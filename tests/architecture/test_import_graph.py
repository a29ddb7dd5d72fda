"""The package's shape, checked from its source: the command line sits on top of a library
that never imports it, nothing imports in a circle, only the entry points read the clock, and
`stigscap --help` imports no pipeline stage."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FOLDERS = ("content", "generator", "evaluator", "schemas")
ENTRY_POINTS = {"stigscap.evaluator.api"}   # beside the CLI: where a Python caller starts a run


def _modules() -> dict[str, Path]:
    mods = {}
    for top in FOLDERS:
        for path in (REPO / top).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts[:2] == ["evaluator", "_stigscap"]:
                parts = []   # installed as the top-level `stigscap` package
            mods[".".join(["stigscap", *parts])] = path
    return mods


MODULES = _modules()


def _imports_in(source: str, name: str, is_pkg: bool) -> list[tuple[str, int]]:
    """(imported module, line) for every import in a module's source, at any depth (a lazy
    import inside a function is a dependency too), relative imports resolved."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((target, node.lineno))
            out += [(f"{target}.{a.name}", node.lineno) for a in node.names]
    return out


def _imports(name: str) -> list[tuple[str, int]]:
    path = MODULES[name]
    return _imports_in(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")


def _internal_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for m in MODULES:
        for target, _ in _imports(m):
            if target in MODULES and target != m:
                edges[m].add(target)
    return edges


def _is_cli(name: str) -> bool:
    return name == "stigscap.evaluator.cli" or name.startswith("stigscap.evaluator.cli.")


def test_the_walk_finds_the_package():
    """The checks below are only as good as the module list: it holds every stage."""
    for must in ("stigscap.evaluator.cli.main", "stigscap.evaluator.oval.engine",
                 "stigscap.generator.build", "stigscap.schemas.xmlio", "stigscap.content.loader",
                 "stigscap", "stigscap.evaluator.api"):
        assert must in MODULES
    assert "stigscap.evaluator.oval.logic" in _internal_edges()["stigscap.evaluator.oval.engine"]


def test_no_library_module_imports_click_or_the_cli():
    bad = [f"{MODULES[m].relative_to(REPO)}:{line}: imports {target}"
           for m in MODULES if not _is_cli(m)
           for target, line in _imports(m)
           if target == "click" or target.startswith("click.") or _is_cli(target)]
    assert bad == []


def test_no_import_cycles():
    edges = _internal_edges()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:   # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert cycles == []


# (importer prefix, forbidden prefix, why)
LAYERS = [
    ("stigscap.schemas", "stigscap.evaluator", "schemas/ is the base every stage uses"),
    ("stigscap.schemas", "stigscap.generator", "schemas/ is the base every stage uses"),
    ("stigscap.content", "stigscap.evaluator", "content/ is data and its model"),
    ("stigscap.evaluator.oval", "stigscap.evaluator.results", "the OVAL engine is below ARF"),
    ("stigscap.evaluator.oval", "stigscap.evaluator.checklists", "the OVAL engine is pure"),
    ("stigscap.evaluator.oval.engine", "stigscap.evaluator.oval.results",
     "the engine returns results; the writer renders them"),
    ("stigscap.evaluator.oval.logic", "stigscap.evaluator.oval.results", "as the engine"),
    ("stigscap.evaluator.oval.compare", "stigscap.evaluator.oval.results", "as the engine"),
    ("stigscap.evaluator.xccdf", "stigscap.evaluator.results", "the XCCDF engine is below ARF"),
    ("stigscap.evaluator.collect.winrm", "stigscap.evaluator.collect.offline",
     "the live collector shares collect.records with the offline one, nothing else"),
    ("stigscap.evaluator.collect.records", "stigscap.evaluator.collect.offline",
     "the shared record rules are below both collectors"),
    ("stigscap.evaluator.checklists.ckl", "stigscap.evaluator.checklists.cklb", "one format each"),
    ("stigscap.evaluator.checklists.cklb", "stigscap.evaluator.checklists.ckl", "one format each"),
]


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_layers():
    bad = [f"{MODULES[m].relative_to(REPO)}:{line}: imports {target} ({why})"
           for low, high, why in LAYERS
           for m in MODULES if _under(m, low)
           for target, line in _imports(m) if _under(target, high)]
    assert bad == []


def test_the_import_walk_sees_lazy_and_relative_imports():
    src = ("class A:\n    def f(self):\n        from .results import x\n"
           "        from . import logic\n        import click\n")
    got = {t for t, _ in _imports_in(src, "stigscap.evaluator.oval.engine", False)}
    assert {"stigscap.evaluator.oval.results", "stigscap.evaluator.oval.logic", "click"} <= got
    got = {t for t, _ in _imports_in("from ..oval import engine\n",
                                     "stigscap.evaluator.results", True)}
    assert "stigscap.evaluator.oval.engine" in got


CLOCK_READS = ("SOURCE_DATE_EPOCH", "datetime.now", "utcnow", "time.time", "time.gmtime",
               "date.today")


def _clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, what) for every wall-clock or SOURCE_DATE_EPOCH read in a module's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            dotted = ast.unparse(node)
            if any(dotted.endswith(c) for c in CLOCK_READS if "." in c):
                found.append((node.lineno, dotted))
        elif isinstance(node, ast.Constant) and node.value == "SOURCE_DATE_EPOCH":
            found.append((node.lineno, "reads SOURCE_DATE_EPOCH"))
    return found


def test_only_the_clock_module_reads_the_clock_and_only_entry_points_resolve_time():
    """Engines and writers are given their time; `schemas.clock` is the one reader of
    SOURCE_DATE_EPOCH and the wall clock, and only the CLI and the API ask it (resolve_time).
    Durations (time.monotonic, perf_counter) are not times written anywhere."""
    bad = []
    for m, path in MODULES.items():
        if m == "stigscap.schemas.clock":
            continue
        bad += [f"{path.relative_to(REPO)}:{line}: {what}"
                for line, what in _clock_reads(path.read_text(encoding="utf-8"))]
        if not (_is_cli(m) or m in ENTRY_POINTS):
            bad += [f"{path.relative_to(REPO)}:{line}: imports {t}" for t, line in _imports(m)
                    if t == "stigscap.schemas.clock.resolve_time"]
    assert bad == []


def test_the_clock_guard_sees_a_planted_read():
    planted = ("import datetime, os, time\n"
               "a = datetime.datetime.now()\n"
               "b = os.environ.get('SOURCE_DATE_EPOCH')\n"
               "c = time.time()\n"
               "d = time.monotonic()\n")
    assert [line for line, _ in _clock_reads(planted)] == [2, 3, 4]
    clock_source = (REPO / "schemas" / "clock.py").read_text(encoding="utf-8")
    assert _clock_reads(clock_source)    # the one module allowed to read it does


# ------------------------------------------------------------------------------- the CLI

def test_help_table_matches_the_commands():
    """`stigscap --help` is printed from a table, without importing the commands: every
    command is in it, under its own module, with its own first help paragraph."""
    import importlib

    from stigscap.evaluator.cli.main import COMMANDS

    seen = {}
    for module in sorted({m for m, _ in COMMANDS.values()}):
        for cmd in importlib.import_module(f"stigscap.evaluator.cli.{module}").COMMANDS:
            seen[cmd.name] = (module, " ".join((cmd.help or "").split("\n\n")[0].split()))
    assert seen == COMMANDS
    helpers = {"__init__", "main", "options", "launch", "terminal",   # no command of their own
               "validate_files"}
    listed = {p.stem for p in (REPO / "evaluator" / "cli").glob("*.py")} - helpers
    assert listed == {m for m, _ in COMMANDS.values()}


_EAGER_HELP = """
import importlib, click
from stigscap.evaluator.cli.main import COMMANDS, main
full = click.Group(name="stigscap", help=main.help, params=main.params,
                   context_settings=main.context_settings)
for module in sorted({m for m, _ in COMMANDS.values()}):
    for cmd in importlib.import_module(f"stigscap.evaluator.cli.{module}").COMMANDS:
        full.add_command(cmd)
full(["--help"], prog_name="stigscap")
"""


@pytest.mark.parametrize("columns", ["80", "200"])
def test_help_output_is_the_one_click_would_print(columns):
    """The lazy listing is the listing click prints with every command loaded."""
    env = {"COLUMNS": columns, "PATH": "/usr/bin:/bin"}
    lazy = subprocess.run([str(Path(sys.executable).parent / "stigscap"), "--help"],
                          capture_output=True, text=True, timeout=120, env=env)
    eager = subprocess.run([sys.executable, "-c", _EAGER_HELP], capture_output=True,
                           text=True, timeout=120, env=env)
    assert lazy.returncode == 0 and eager.returncode == 0, lazy.stderr + eager.stderr
    assert "validate" in lazy.stdout and "verify" in lazy.stdout
    assert lazy.stdout == eager.stdout


def test_help_imports_no_stage():
    """`stigscap --help`, through the console script's entry point, loads click and the
    command table only (the start-up time is measured by bench/cli_startup.py)."""
    code = ("import sys; sys.argv = ['stigscap', '--help']\n"
            "from stigscap.evaluator.cli.launch import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('stigscap')))\n"
            "print(sorted(m for m in ('lxml', 'jinja2', 'pypsrp', 'rich', 'cryptography',"
            " 'signxml', 'xmlschema', 'yaml', 'pydantic') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    *_, loaded, third_party = run.stdout.strip().splitlines()
    assert eval(loaded) == ["stigscap", "stigscap.evaluator", "stigscap.evaluator.cli",
                            "stigscap.evaluator.cli.launch", "stigscap.evaluator.cli.main",
                            "stigscap.schemas",
                            "stigscap.schemas.errors"]
    assert eval(third_party) == []
