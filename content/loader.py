"""Load and validate content YAML; every problem names the file, the line and the field."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from stigscap.schemas.errors import StigscapError

from .model import Benchmark, Family, Rule, resolve_family


@dataclass(frozen=True)
class Content:
    benchmark: Benchmark
    rules: tuple[Rule, ...]
    source_dir: Path

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if rule_id in (r.rule_id, r.group_id, r.version):
                return r
        raise StigscapError(f"unknown rule id {rule_id!r} (content has "
                            f"{', '.join(r.rule_id for r in self.rules)})")

    def select(self, rule_ids: list[str] | None) -> "Content":
        if not rule_ids:
            return self
        return Content(self.benchmark, tuple(self.rule(i) for i in rule_ids), self.source_dir)


def builtin_content_dir() -> Path:
    return Path(str(resources.files("stigscap.content")))


DEFAULT_BENCHMARK = "exchange2013_edge"


def builtin_benchmarks() -> dict[str, Path]:
    """The built-in benchmarks by name: the Exchange 2013 Edge content (the default, at the
    top of content/) and each content/benchmarks/<name>/."""
    base = builtin_content_dir()
    out = {DEFAULT_BENCHMARK: base}
    for d in sorted((base / "benchmarks").glob("*/benchmark.yaml")):
        out[d.parent.name] = d.parent
    return out


def builtin_benchmark_dir(name: str) -> Path:
    known = builtin_benchmarks()
    if name not in known:
        raise StigscapError(f"no built-in benchmark {name!r} (built in: {', '.join(known)})")
    return known[name]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers where each mapping key sits, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False):
    mapping = {}
    lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
        lines[key] = key_node.start_mark.line + 1
    mapping_lines[id(mapping)] = (lines, node.start_mark.line + 1)
    return mapping


mapping_lines: dict[int, tuple[dict, int]] = {}
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_of(data, loc: tuple) -> int | None:
    """Walk the pydantic error location through the parsed data to the nearest known line."""
    line = None
    node = data
    for part in loc:
        info = mapping_lines.get(id(node)) if isinstance(node, dict) else None
        if info:
            lines, start = info
            line = lines.get(part, line if line is not None else start)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            info = mapping_lines.get(id(node)) if isinstance(node, dict) else None
            if info:
                line = info[1]
        else:
            break
    return line


def _data_loc(data, loc: tuple) -> tuple:
    """The error location without the tags pydantic inserts for a tagged union (a test's
    `object` is a cmdlet or a registry object): only the keys and indexes of the data."""
    from .model import OBJECT_TAGS
    return tuple(p for i, p in enumerate(loc)
                 if not (p in OBJECT_TAGS and i and loc[i - 1] == "object"))


def load_model(path: Path, model: type[BaseModel]):
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StigscapError(f"cannot read content file: {exc}", file=str(path)) from None
    mapping_lines.clear()
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise StigscapError(f"malformed YAML: {problem}", file=str(path),
                            line=(mark.line + 1) if mark else None) from None
    if not isinstance(data, dict):
        raise StigscapError(f"expected a mapping of fields, found {type(data).__name__}",
                            file=str(path), line=1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _data_loc(data, tuple(err["loc"]))
        field = ".".join(str(p) for p in loc) or "(document)"
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field (misspelled?)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise StigscapError(f"field {field}: {msg}{more}", file=str(path),
                            line=_line_of(data, loc)) from None
    finally:
        mapping_lines.clear()


def families_dir(base: Path) -> Path | None:
    """Where the requirement families of a content directory are: `families/` beside its
    benchmark.yaml, else two levels up (content/benchmarks/<name>/ -> content/families/), else
    the built-in ones."""
    for cand in (base / "families", base.parent.parent / "families",
                 builtin_content_dir() / "families"):
        if cand.is_dir():
            return cand
    return None


def load_families(directory: Path) -> dict[str, tuple[Family, Path]]:
    """Every families/<id>.yaml, by id (the file name is the id)."""
    out: dict[str, tuple[Family, Path]] = {}
    for f in sorted(directory.glob("*.yaml")):
        fam = load_model(f, Family)
        if fam.id != f.stem:
            raise StigscapError(f"family id {fam.id!r} differs from the file name",
                                file=str(f), line=_key_line(f, "id"))
        out[fam.id] = (fam, f)
    return out


def _key_line(path: Path, key: str) -> int | None:
    try:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith(f"{key}:"):
                return n
    except (OSError, UnicodeDecodeError):
        pass
    return None


def resolve_rules(rules: list[Rule], files: list[Path], base: Path) -> list[Rule]:
    """Rules that name a family, with the family's check (and their overrides) filled in."""
    if not any(r.family for r in rules):
        return rules
    where = families_dir(base)
    families = load_families(where) if where else {}
    out = []
    for r, f in zip(rules, files):
        if r.family is None:
            out.append(r)
            continue
        if r.family not in families:
            raise StigscapError(f"field family: no family {r.family!r} (no {r.family}.yaml in "
                                f"{where or 'a families directory'})", file=str(f),
                                line=_key_line(f, "family"))
        try:
            out.append(resolve_family(r, families[r.family][0]))
        except ValueError as exc:
            msg = str(exc)
            if hasattr(exc, "errors"):     # pydantic: the first problem, as load_model says it
                err = exc.errors()[0]
                msg = f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            raise StigscapError(f"family {r.family}: {msg}", file=str(f),
                                line=_key_line(f, "overrides") or _key_line(f, "family")
                                ) from None
    return out


def load_content(directory: str | Path | None = None) -> Content:
    """Load `benchmark.yaml` and `rules/*.yaml` from a content directory (default: built in);
    rules that name a requirement family get its check (see `families_dir`)."""
    base = Path(directory) if directory else builtin_content_dir()
    bench_file = base / "benchmark.yaml"
    if not bench_file.is_file():
        raise StigscapError("no benchmark.yaml in content directory", file=str(base))
    benchmark = load_model(bench_file, Benchmark)
    rule_files = sorted((base / "rules").glob("*.yaml"))
    if not rule_files:
        raise StigscapError("no rule files (rules/*.yaml) in content directory", file=str(base))
    rules = resolve_rules([load_model(f, Rule) for f in rule_files], rule_files, base)
    seen: dict[str, Path] = {}
    for f, r in zip(rule_files, rules):
        for key in (r.rule_id, r.group_id):
            if key in seen:
                raise StigscapError(f"{key} is defined again (first in {seen[key].name})", file=str(f))
            seen[key] = f
    rules.sort(key=lambda r: (r.vuln_number, r.rule_id))
    return Content(benchmark, tuple(rules), base)
