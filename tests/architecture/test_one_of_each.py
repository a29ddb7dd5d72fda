"""Guards for issue 12's "one of each": a second copy of these, anywhere in the package source
(content/, generator/, evaluator/, schemas/), fails here with the file and line.

* one jinja2 Environment construction: `schemas/templating.py` (everyone asks it);
* one namespaces table: the SCAP namespace URIs are spelled only in `schemas/namespaces.py`
  (prefix maps and `{uri}local` names are built from it; templates, which hold the XML shape,
  are not Python source and are not scanned);
* one `def cmdlet_name`: `evaluator/collect/model.py`, beside `CmdletQuery`;
* one reader of the schema-directory setting: its variable names are spelled only in
  `schemas/catalog.py`.

Static checks over the source text (ast), so they also run, and fail, on a tree that is not
installed: the package is not imported.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE_DIRS = ("content", "generator", "evaluator", "schemas")
TABLE = "schemas/namespaces.py"

# The main SCAP namespaces (SP 800-126r3 §2, plus XML-DSig as SCAP signs with it): each must be
# in the table and nowhere else.
MAIN_SCAP_NAMESPACES = (
    "http://checklists.nist.gov/xccdf/1.1",
    "http://checklists.nist.gov/xccdf/1.2",
    "http://scap.nist.gov/schema/scap/source/1.2",
    "http://scap.nist.gov/schema/scap/constructs/1.2",
    "http://scap.nist.gov/schema/asset-reporting-format/1.1",
    "http://scap.nist.gov/schema/reporting-core/1.1",
    "http://scap.nist.gov/schema/asset-identification/1.1",
    "http://scap.nist.gov/schema/xml-dsig/1.0",
    "http://scap.nist.gov/schema/ocil/2.0",
    "http://scap.nist.gov/schema/cpe-extension/2.3",
    "http://oval.mitre.org/XMLSchema/oval-common-5",
    "http://oval.mitre.org/XMLSchema/oval-definitions-5",
    "http://oval.mitre.org/XMLSchema/oval-system-characteristics-5",
    "http://oval.mitre.org/XMLSchema/oval-results-5",
    "http://oval.mitre.org/XMLSchema/oval-variables-5",
    "http://oval.mitre.org/XMLSchema/oval-directives-5",
    "http://oval.mitre.org/XMLSchema/oval-definitions-5#windows",
    "http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows",
    "http://oval.mitre.org/XMLSchema/oval-definitions-5#independent",
    "http://cpe.mitre.org/dictionary/2.0",
    "http://cpe.mitre.org/language/2.0",
    "urn:oasis:names:tc:entity:xmlns:xml:catalog",
    "http://www.w3.org/2000/09/xmldsig#",
    "http://www.w3.org/2001/XMLSchema-instance",
    "http://www.w3.org/1999/xlink",
    "http://purl.org/dc/elements/1.1/",
)
SCHEMA_DIR_VARIABLES = ("STIGSCAP_SCHEMA_DIR", "STIGSCAP_OPENSCAP_SCHEMAS")
JINJA_CONSTRUCTORS = {"Environment", "SandboxedEnvironment", "NativeEnvironment", "Template"}


def source_files(repo: Path = REPO) -> list[tuple[str, ast.Module]]:
    out = []
    for top in PACKAGE_DIRS:
        for path in sorted((repo / top).rglob("*.py")):
            rel = path.relative_to(repo).as_posix()
            out.append((rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel)))
    assert len(out) > 40, "the package source was not found"
    return out


def table_uris(repo: Path = REPO) -> dict[str, str]:
    """URI constants of the namespaces table, read from its source: name → URI."""
    tree = ast.parse((repo / TABLE).read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                and re.match(r"^(https?://|urn:)", node.value.value)):
            out[node.targets[0].id] = node.value.value
    return out


def _spells(text: str, uri: str) -> bool:
    """`text` spells `uri` out: as itself, or continued the way a namespace is used
    (`{uri}local`, `uri#fragment`, `uri` + "/..."); `…/1999/xlink.xsd` (a schema location)
    does not spell `…/1999/xlink`."""
    start = text.find(uri)
    while start >= 0:
        after = text[start + len(uri):start + len(uri) + 1]
        if uri.endswith(("#", "/")) or not after or not re.match(r"[A-Za-z0-9._/-]", after):
            return True
        start = text.find(uri, start + 1)
    return False


def jinja_constructions(files) -> list[str]:
    found = []
    for rel, tree in files:
        modules = {"jinja2"}        # local names of the jinja2 module (import jinja2 [as j])
        constructors = set()        # local names of its constructors (from jinja2 import …)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {(a.asname or a.name).split(".")[0] for a in node.names
                            if a.name.split(".")[0] == "jinja2"}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "jinja2":
                constructors |= {a.asname or a.name for a in node.names
                                 if a.name in JINJA_CONSTRUCTORS}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in JINJA_CONSTRUCTORS:
                base = f.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(base, ast.Name) and base.id in modules:
                    found.append(f"{rel}:{node.lineno}")
            elif isinstance(f, ast.Name) and f.id in constructors:
                found.append(f"{rel}:{node.lineno}")
    return found


def namespace_literals(files, uris) -> list[str]:
    found = []
    for rel, tree in files:
        if rel == TABLE:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for uri in uris:
                    if _spells(node.value, uri):
                        found.append(f"{rel}:{node.lineno}: {uri}")
    return found


def cmdlet_name_definitions(files) -> list[str]:
    return [f"{rel}:{node.lineno}" for rel, tree in files for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name == "cmdlet_name"]


def schema_dir_variable_names(files) -> list[str]:
    return [f"{rel}:{node.lineno}: {node.value}" for rel, tree in files
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in SCHEMA_DIR_VARIABLES]


# ---- the guards --------------------------------------------------------------------------------

def test_one_jinja_environment_construction():
    sites = jinja_constructions(source_files())
    assert [s.split(":")[0] for s in sites] == ["schemas/templating.py"], sites


def test_main_scap_namespaces_are_in_the_table():
    table = set(table_uris().values())
    assert set(MAIN_SCAP_NAMESPACES) <= table, set(MAIN_SCAP_NAMESPACES) - table


def test_namespace_uris_spelled_only_in_the_table():
    uris = set(MAIN_SCAP_NAMESPACES) | set(table_uris().values())
    assert namespace_literals(source_files(), sorted(uris)) == []


def test_one_cmdlet_name():
    sites = cmdlet_name_definitions(source_files())
    assert [s.split(":")[0] for s in sites] == ["evaluator/collect/model.py"], sites


def test_schema_dir_setting_named_in_one_module():
    sites = schema_dir_variable_names(source_files())
    assert {s.split(":")[0] for s in sites} == {"schemas/catalog.py"}, sites


# ---- the guards can fail -------------------------------------------------------------------------

def _parse(rel: str, code: str) -> list[tuple[str, ast.Module]]:
    return [(rel, ast.parse(code))]


def test_guards_see_second_copies():
    """Each detector finds the forms a second copy takes (the real tree has none of them)."""
    assert jinja_constructions(_parse("a.py", "import jinja2\ne = jinja2.Environment()")) == ["a.py:2"]
    assert jinja_constructions(_parse("b.py", "from jinja2 import Environment as E\nE()")) \
        == ["b.py:2"]
    assert jinja_constructions(_parse("b.py", "import jinja2.sandbox\n"
                                              "jinja2.sandbox.SandboxedEnvironment()")) == ["b.py:2"]
    assert jinja_constructions(_parse("b.py", "from jinja2 import Environment\nEnvironment()")) \
        == ["b.py:2"]
    assert jinja_constructions(_parse("c.py", "import jinja2\njinja2.Template('x')")) == ["c.py:2"]
    uris = ["http://www.w3.org/2001/XMLSchema-instance", "http://www.w3.org/2000/09/xmldsig#",
            "http://www.w3.org/1999/xlink"]
    code = ('A = "{http://www.w3.org/2001/XMLSchema-instance}nil"\n'
            'B = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"\n'
            'C = "http://www.w3.org/1999/xlink.xsd"\n'
            'D = f"{{http://www.w3.org/1999/xlink}}href"\n')
    assert namespace_literals(_parse("d.py", code), uris) == [
        "d.py:1: http://www.w3.org/2001/XMLSchema-instance",
        "d.py:2: http://www.w3.org/2000/09/xmldsig#", "d.py:4: http://www.w3.org/1999/xlink"]
    assert cmdlet_name_definitions(_parse("e.py", "class A:\n    def cmdlet_name(self): pass")) \
        == ["e.py:2"]
    assert schema_dir_variable_names(_parse("f.py", "import os\nos.getenv('STIGSCAP_OPENSCAP_SCHEMAS')")) \
        == ["f.py:2: STIGSCAP_OPENSCAP_SCHEMAS"]
