"""stigscap's SCAP 1.3 requirement checks give NIST SCAPVal's verdicts, failure for failure.

The oracle is SCAPVal's own Schematron run by SaxonC-HE (tests/scapval.py): for each document,
the set of (requirement, rule-context element) pairs it fails must equal ours (each finding
keeps the element SCAPVal reports it on in `Problem.context`; we also name the element at fault
inside it). Compared on SCAPVal's own unit tests, on every SCAP Security Guide data stream
installed (source rules + XCCDF 1.2 / OCIL 2.0 / TMSAD 1.0 component rules) and on what
`stigscap run --example` writes, plain and signed (data stream, ARF).

Left out of the comparison: the requirements SCAPVal's Schematron asserts but no document can
reproduce outside SCAPVal (SRC-74-1 and A-21-1 read NIST data feeds, A-22-1 tests SCAPVal's own
Java function, RES-366-1 always fails as a reminder), and stigscap's additions SCAPVal does not
check. Skipped when ../shared or saxonche is absent; STIGSCAP_SSG_SUBSET=1 runs only the SSG
streams under 6 MB (the whole set costs several CPU-minutes of Saxon).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from stigscap.schemas.scap_checks import run
from stigscap.schemas.xmlio import parse_xml_bytes
from tests.schemas.paths import xpath2_path
from tests.schemas.scapval_units import instantiate, unit_tests
from tests.schemas.test_scap_coverage import scapval_checked

SSG = Path("/usr/share/xml/scap/ssg/content")
STREAMS = sorted(SSG.glob("ssg-*-ds.xml")) if SSG.is_dir() else []
if os.environ.get("STIGSCAP_SSG_SUBSET"):
    STREAMS = [p for p in STREAMS if p.stat().st_size < 6_000_000]
UNREPRODUCIBLE = {"SRC-74-1", "A-21-1", "A-22-1", "RES-366-1"}
SOURCE_RULESETS = ["source", "other/xccdf-1.2.sch", "other/ocil-2.0.sch",
                   "other/ocil-2.0.sch@2.0", "other/tmsad-1.0.sch"]
RESULT_RULESETS = ["result", "other/tmsad-1.0.sch"]


def _ruleset_ids(ruleset: str) -> set[str] | None:
    """The ids a ruleset asserts (None: the component rulesets, keyed by their own prefix)."""
    from tests.scapval import RULESETS, _compiled  # noqa: F401 - skips without saxonche

    if ruleset in RULESETS:
        from tests.schemas.test_scap_coverage import RULES, SCH
        sch = etree.parse(str(RULES / RULESETS[ruleset])).getroot()
        return {(a.text or "").strip().split("|")[0] for a in sch.iter(f"{SCH}assert")}
    return None


def _prefix(ruleset: str) -> str:
    return Path(ruleset.partition("@")[0]).stem


def _oracle(data: bytes | Path, rulesets: list[str]) -> set[tuple[str, str]]:
    from tests.scapval import scapval_results

    out = set()
    for rs in rulesets:
        out |= {(f.requirement, f.location) for f in scapval_results(data, rs)}
    return out


def _ours(data: bytes, rulesets: list[str]) -> set[tuple[str, str]]:
    root = parse_xml_bytes(data, "doc.xml", huge_tree=True).getroot()
    kind = "arf" if etree.QName(root).localname == "asset-report-collection" else "sds"
    wanted: set[str] = set()
    prefixes = []
    for rs in rulesets:
        ids = _ruleset_ids(rs)
        if ids is None:
            prefixes.append(_prefix(rs))
        else:
            wanted |= ids
    return {(p.rule, xpath2_path(p.context)) for p in run(root, kind, "doc.xml")
            if p.rule in wanted or p.rule.startswith(tuple(prefixes))}


def _compare(data: bytes | Path, rulesets: list[str]) -> None:
    raw = data.read_bytes() if isinstance(data, Path) else data
    checked = scapval_checked() - UNREPRODUCIBLE
    oracle = {x for x in _oracle(data, rulesets) if x[0] in checked}
    ours = {x for x in _ours(raw, rulesets) if x[0] in checked}
    assert sorted(oracle - ours) == [] and sorted(ours - oracle) == [], \
        (sorted(oracle - ours)[:5], sorted(ours - oracle)[:5])


UNITS = unit_tests()


@pytest.mark.parametrize("unit", UNITS or [None], ids=[u.name for u in UNITS] or ["none"])
def test_scapval_unit_tests(unit):
    if unit is None:
        pytest.skip("reference file not available: SCAPVal unit tests (../shared)")
    ruleset = {"scap/source-data-stream-1.3.sch": "source",
               "scap/result-data-stream-1.3.sch": "result"}.get(unit.ruleset, unit.ruleset)
    rulesets = [ruleset, f"{ruleset}@2.0"] if "ocil" in ruleset else [ruleset]
    _compare(instantiate(unit), rulesets)


@pytest.mark.parametrize("stream", STREAMS or [None], ids=[p.name for p in STREAMS] or ["none"])
def test_ssg_streams(stream):
    if stream is None:
        pytest.skip("no SSG data streams installed")
    _compare(stream, SOURCE_RULESETS)


@pytest.fixture(scope="module")
def run_outputs(tmp_path_factory) -> list[Path]:
    """`run --example`, plain and signed: data stream and ARF of each."""
    from tests.cli_helpers import stigscap
    from tests.pki import make_identity

    base = tmp_path_factory.mktemp("parity")
    ident = make_identity(base, "parity")
    files = []
    for name, extra in (("plain", ()), ("signed", ("--sign-key", ident.key_pem,
                                                   "--sign-cert", ident.cert_pem))):
        out = base / name
        res = stigscap("run", "--example", "--output", out, *extra,
                       env=dict(os.environ, SOURCE_DATE_EPOCH="1764300000"))
        assert res.rc in (0, 1, 2), res.err
        files += sorted(out.glob("*-ds.xml")) + sorted(out.glob("*-arf.xml"))
    assert len(files) == 4
    return files


@pytest.mark.parametrize("which", range(4), ids=["ds", "arf", "signed-ds", "signed-arf"])
def test_run_example_outputs(run_outputs, which):
    f = run_outputs[which]
    _compare(f, RESULT_RULESETS if f.name.endswith("-arf.xml") else SOURCE_RULESETS)


def test_fixtures():
    fixtures = Path(__file__).with_name("fixtures")
    for name in ("mini-ds.xml", "family-ds.xml"):
        _compare(fixtures / name, SOURCE_RULESETS)
