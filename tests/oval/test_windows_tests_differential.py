"""Differential tests: win-def:registry_test, fileeffectiverights53_test and file_test in
stigscap's OVAL engine against `oscap oval analyse` (OpenSCAP 1.3.7).

One definitions document and one system-characteristics document per test type
(tests/oval/ovalcases_windows.py): items that exist / do not exist, item status error, entities
with status "not collected" / "error" / absent, several items per object (one
fileeffectiverights item per trustee SID, pattern-matched registry names and file paths) under
every check × check_existence, state operators and state_operator, operations per datatype
(int reg_dword/reg_qword values, string reg_sz, binary reg_binary, boolean rights, version and
int size / times), registry type and windows_view enumerations, reg_multi_sz and file
attributes under entity_check, and multi-valued external variables under var_check. Each
document is analysed once by each engine; every definition and test result must be equal,
except the documented cases in KNOWN_DIFFERENCES where oscap departs from the OVAL 5.11.2
specification (../shared/reference/tool-quirks.md §10): there both our specification answer and
oscap's answer are asserted, so a change on either side is noticed.
"""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from lxml import etree

import tests.oval.ovalcases_windows as W
from stigscap.evaluator.oval.engine import compile_definitions
from stigscap.evaluator.oval.results import build_results_document
from tests.conftest import require_tool
from tests.oval.ovalcases_builder import syschar_doc, variables_doc
from tests.oval.test_oval_differential import RES_NS

_CE4 = "{all_exist,any_exist,at_least_one_exists,only_one_exists}"
_SAT = "{all,at least one,only one}"
_EXPLICIT = "{all,at least one}"
_MAIN = {"registry": "dword=1", "fileeffectiverights53": "no write",
         "file": "version >= 15.1.2507.6"}
W_MIN = _MAIN["file"]

# reason → [(label pattern "type|scenario|check|check_existence|state", spec answer, oscap
# 1.3.7 answer)]; in a pattern * is any one label part and {a,b} either of a and b.
KNOWN_DIFFERENCES: dict[str, list[tuple[str, str, str]]] = {
    # §10: an object with flag error (or not collected) under check_existence any_exist and no
    # state gives true; TestType / ExistenceEnumeration: error (unknown).
    "flag error / not collected, any_exist without state": [
        ("*|item_error|all|any_exist|", "error", "true"),
        ("*|flag_error|all|any_exist|", "error", "true"),
        ("registry|flag_not_collected|all|any_exist|", "unknown", "true"),
    ],
    # §10 / TestType: items with status 'does not exist' take no part in the check; oscap
    # compares them with the state (a registry value or file that is not there: false).
    "items with status 'does not exist' in the check": [
        (f"registry|dne_and_good|all|{_CE4}|dword=1", "true", "false"),
        (f"file|dne_and_good|all|{_CE4}|{_MAIN['file']}", "true", "false"),
    ],
    # ExistenceEnumeration: on a test all_exist is at_least_one_exists ("non-existent items
    # have no impact"); oscap applies the all_exist table, where an error item gives error.
    "all_exist on a test with an error item": [
        ("*|error_and_good|at least one|all_exist|*", "true", "error"),
        ("*|error_and_good|none satisfy|all_exist|*", "false", "error"),
        ("*|error_and_good|all|all_exist|", "true", "error"),
    ],
    # §10: none_exist with one existing item is false whatever the other items; oscap: error.
    "none_exist with an existing and an error item": [
        ("*|error_and_good|*|none_exist|*", "false", "error"),
    ],
    # StatusEnumeration / ResultEnumeration: a collected entity with status 'not collected'
    # gives unknown, with status 'error' error; oscap compares the entity's text as if it
    # existed (the recorded value is meaningless).
    "item entity with status 'not collected' / 'error'": [
        (f"registry|value_nc|{_SAT}|{_CE4}|dword=1", "unknown", "true"),
        (f"registry|value_nc|none satisfy|{_CE4}|dword=1", "unknown", "false"),
        (f"registry|value_error|{_SAT}|{_CE4}|dword=1", "error", "true"),
        (f"registry|value_error|none satisfy|{_CE4}|dword=1", "error", "false"),
        (f"fileeffectiverights53|right_nc|{_SAT}|{_CE4}|no write", "unknown", "true"),
        (f"fileeffectiverights53|right_nc|none satisfy|{_CE4}|no write", "unknown", "false"),
        (f"fileeffectiverights53|right_error|{_SAT}|{_CE4}|no write", "error", "true"),
        (f"fileeffectiverights53|right_error|none satisfy|{_CE4}|no write", "error", "false"),
        (f"file|version_nc|{_SAT}|{_CE4}|{_MAIN['file']}", "unknown", "true"),
        (f"file|version_nc|none satisfy|{_CE4}|{_MAIN['file']}", "unknown", "false"),
        (f"file|version_error|{_SAT}|{_CE4}|{_MAIN['file']}", "error", "true"),
        (f"file|version_error|none satisfy|{_CE4}|{_MAIN['file']}", "error", "false"),
    ],
    # §10: the state entity's check_existence counts every entity of the item, so a state
    # entity the item does not have gives unknown (spec: at_least_one_exists fails → false;
    # check_existence="none_exist" on the entity → true, oscap false).
    "state entity absent from the item": [
        (f"registry|no_value|{_SAT}|{_CE4}|dword=1", "false", "unknown"),
        (f"registry|no_value|none satisfy|{_CE4}|dword=1", "true", "unknown"),
        ("registry|no_value|all|at_least_one_exists|type *", "false", "unknown"),
        ("registry|{sz,dword1}|all|at_least_one_exists|expanded pattern match Logs$", "false",
         "unknown"),
        ("registry|{sz,dword1}|all|at_least_one_exists|expanded absent", "false", "unknown"),
        ("registry|{sz,dword1}|all|at_least_one_exists|expanded absent, none_exist", "true",
         "false"),
        (f"fileeffectiverights53|right_missing|{_SAT}|{_CE4}|no write", "false", "unknown"),
        (f"fileeffectiverights53|right_missing|none satisfy|{_CE4}|no write", "true",
         "unknown"),
        (f"file|no_version|{_SAT}|{_CE4}|{_MAIN['file']}", "false", "unknown"),
        (f"file|no_version|none satisfy|{_CE4}|{_MAIN['file']}", "true", "unknown"),
        ("file|ex2019|all|at_least_one_exists|product_version equals", "false", "unknown"),
        (f"file|*|{_EXPLICIT}|at_least_one_exists|development_class absent", "false",
         "unknown"),
        (f"file|*|{_EXPLICIT}|at_least_one_exists|development_class absent, none_exist",
         "true", "false"),
    ],
}


def _pattern(p: str) -> re.Pattern[str]:
    out = []
    for part in re.split(r"(\*|\{[^}]*\})", p):
        if part == "*":
            out.append("[^|]*")
        elif part.startswith("{") and part.endswith("}"):
            out.append("(?:" + "|".join(re.escape(x) for x in part[1:-1].split(",")) + ")")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out) + r"\Z")


_KNOWN = [(reason, p, _pattern(p), spec, osc)
          for reason, rows in KNOWN_DIFFERENCES.items() for p, spec, osc in rows]


def known(label: str) -> list[tuple[str, str, str, str]]:
    """The documented differences whose pattern matches a label: (reason, pattern, spec,
    oscap) each."""
    return [(r, p, s, o) for r, p, rx, s, o in _KNOWN if rx.match(label)]


@dataclass
class Run:
    suite: W.Suite
    ours: dict[str, str]            # definition id → result
    ours_tests: dict[str, str]      # test id → result
    theirs: dict[str, str]
    theirs_tests: dict[str, str]


def _oscap(tmp, kind: str, defs: bytes, sc: bytes) -> tuple[dict[str, str], dict[str, str]]:
    d, s, v, out = (tmp / f"{kind}-{n}.xml" for n in ("defs", "sc", "vars", "res"))
    d.write_bytes(defs)
    s.write_bytes(sc)
    v.write_bytes(variables_doc(W.EXTERNAL))
    r = subprocess.run(["oscap", "oval", "analyse", "--variables", str(v), "--results",
                        str(out), str(d), str(s)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    doc = etree.parse(str(out))
    return ({e.get("definition_id"): e.get("result")
             for e in doc.iterfind(".//r:results//r:definition", RES_NS)},
            {e.get("test_id"): e.get("result")
             for e in doc.iterfind(".//r:results//r:tests/r:test", RES_NS)})


@pytest.fixture(scope="module")
def suites() -> dict[str, W.Suite]:
    return {kind: build() for kind, build in W.SUITES.items()}


@pytest.fixture(scope="module")
def runs(suites, tmp_path_factory) -> dict[str, Run]:
    require_tool("oscap")
    tmp = tmp_path_factory.mktemp("oval-win-diff")
    docs = {k: (s.definitions(), s.syschar()) for k, s in suites.items()}
    with ThreadPoolExecutor(max_workers=len(docs)) as pool:
        futs = {k: pool.submit(_oscap, tmp, k, d, sc) for k, (d, sc) in docs.items()}
        theirs = {k: f.result() for k, f in futs.items()}
    values = {var: vals for var, (_dt, vals) in W.EXTERNAL.items()}
    out = {}
    for k, (d, sc) in docs.items():
        ev = compile_definitions(etree.fromstring(d)).evaluate(etree.fromstring(sc), values)
        ours = {i: str(r) for i, r in ev.definition_results.items()}
        ours_tests = {c.test_id: str(ev.test_result(c.test_id).result)
                      for c in suites[k].cases.values()}
        out[k] = Run(suites[k], ours, ours_tests, *theirs[k])
    return out


@pytest.mark.parametrize("kind", list(W.SUITES))
def test_every_result_matches_oscap_or_is_a_known_difference(runs, kind):
    run = runs[kind]
    cases = run.suite.cases
    assert set(run.ours) == set(cases) == set(run.theirs)
    mismatched, wrong_known = [], []
    for def_id, case in cases.items():
        label = f"{kind}|{case.label}"
        ours, theirs = run.ours[def_id], run.theirs[def_id]
        # one criterion per definition, not negated: the test result is the definition's
        assert (run.ours_tests[case.test_id], run.theirs_tests[case.test_id]) == (ours, theirs)
        docs = known(label)
        assert len(docs) <= 1, (label, docs)
        if docs:
            _reason, pattern, spec, osc = docs[0]
            if (ours, theirs) != (spec, osc):
                wrong_known.append((label, pattern, ours, theirs, spec, osc))
        elif ours != theirs:
            mismatched.append((label, ours, theirs))
    assert not mismatched, f"{len(mismatched)} differ from oscap: {mismatched[:20]}"
    assert not wrong_known, ("known differences changed (label, pattern, ours, oscap, spec, "
                             f"oscap-known): {wrong_known[:20]}")


def test_every_known_difference_is_exercised(runs):
    labels = [f"{k}|{c.label}" for k, run in runs.items() for c in run.suite.cases.values()]
    unused = [p for _r, p, rx, _s, _o in _KNOWN if not any(rx.match(lab) for lab in labels)]
    assert not unused


@pytest.mark.parametrize("kind", list(W.SUITES))
def test_cases_cover_every_axis(runs, kind):
    """Not only easy cases: per type every check × check_existence with a state, every
    result value, and the agreed (non-documented) cases are the great majority."""
    run = runs[kind]
    labels = {c.label for c in run.suite.cases.values()}
    for check in W.CHECKS:
        for ce in W.EXISTENCES:
            assert f"flag_dne|{check}|{ce}|{_MAIN[kind]}" in labels
    assert {"true", "false", "error", "unknown"} <= set(run.ours.values())
    assert {"true", "false", "error", "unknown"} <= set(run.theirs.values())
    agreed = sum(run.ours[d] == run.theirs[d] for d in run.suite.cases)
    assert len(run.suite.cases) >= 450 and agreed / len(run.suite.cases) > 0.8


def _result(run: Run, label: str) -> tuple[str, str]:
    (def_id,) = [d for d, c in run.suite.cases.items() if c.label == label]
    return run.ours[def_id], run.theirs[def_id]


def test_readings_both_engines_agree_on(runs):
    """A few cases read by hand: both engines give the answer a STIG check expects."""
    reg, fer, fil = runs["registry"], runs["fileeffectiverights53"], runs["file"]
    ok = "|all|at_least_one_exists|"
    for run, label, want in [
            (reg, "dword1" + ok + "dword=1", "true"),           # reg_dword 1 vs state int 1
            (reg, "dword0" + ok + "dword=1", "false"),
            (reg, "sz" + ok + "type equals reg_dword", "false"),
            (reg, "sz" + ok + "sz int equals 12", "error"),     # "Tls12" is not an int
            (reg, "qword_big" + ok + "value int greater than 4294967295", "true"),
            (reg, "binary" + ok + "binary equals 0a0b", "true"),
            (reg, "multi_sz" + ok + "multi equals Tls12 entity_check at least one", "true"),
            (reg, "multi_sz" + ok + "multi equals Tls12 entity_check all", "false"),
            (reg, "two_views|only one|at_least_one_exists|view 64_bit", "true"),
            (reg, "flag_dne" + ok + "dword=1", "false"),
            (reg, "flag_dne|all|none_exist|", "true"),
            (fer, "admins_users_read|all|at_least_one_exists|no write", "false"),
            (fer, "admins_users_read|at least one|at_least_one_exists|no write", "true"),
            (fer, "users_write|all|at_least_one_exists|is admin OR read only", "false"),
            # SYSTEM may write and is not BUILTIN\Administrators
            (fer, "admins_users_read|all|at_least_one_exists|is admin OR read only", "false"),
            (fer, "admins_users_read|all|at_least_one_exists|is admin XOR read only", "false"),
            (fer, "admins_system|all|at_least_one_exists|sid var allowed sids var_check at "
                  "least one", "true"),
            (fer, "numeric_booleans|none satisfy|at_least_one_exists|generic_all true",
             "true"),                                            # "0" is false
            (fil, "current" + ok + W_MIN, "true"),
            (fil, "old" + ok + W_MIN, "false"),
            (fil, "current_old|all|at_least_one_exists|" + W_MIN, "false"),
            (fil, "old" + ok + "version equals 15.01.2507.06", "false"),
            (fil, "current" + ok + "version equals 15.01.2507.06", "true"),
            (fil, "ex2019" + ok + "version var two minimums var_check at least one", "true"),
            (fil, "old" + ok + "version var two minimums var_check at least one", "false")]:
        assert _result(run, label) == (want, want), label


@pytest.mark.parametrize("kind", list(W.SUITES))
def test_documents_are_schema_valid(suites, results_schema, kind):
    """The definitions, the system characteristics and our results document validate against
    the official OVAL 5.11.2 schemas (with the Windows definitions and items)."""
    s = suites[kind]
    defs, sc = etree.fromstring(s.definitions()), etree.fromstring(s.syschar())
    results_schema.assertValid(defs)
    results_schema.assertValid(sc)
    ev = compile_definitions(defs).evaluate(
        sc, {var: vals for var, (_dt, vals) in W.EXTERNAL.items()})
    results_schema.assertValid(build_results_document(ev, directives="full",
                                                      timestamp="2026-12-06T05:00:00"))


def test_item_search_without_collected_objects_finds_fileeffectiverights_items():
    """A fileeffectiverights53_object's items are fileeffectiverights_items (the
    oval:element_mapping of the 5.11.2 windows schema; there is no fileeffectiverights53_item):
    a system characteristics without collected_objects is searched for them, and gives the
    results it gives with collected_objects. (The engine searched for
    'fileeffectiverights53_item', found nothing and judged the object 'does not exist'.)"""
    s = W.Suite("fileeffectiverights53")
    s.scenario("pair", "complete", [(None, W.rights("S-1-5-32-544", W.FULL)),
                                    (None, W.rights("S-1-5-32-545", W.READ))],
               [W.E("filepath", W._EXSETUP), W.E("trustee_sid", ".*", operation="pattern match")])
    s.state("no write", [W.E("file_write_data", "false", "boolean")])
    cases = [s.case("pair", ("no write",), check) for check in ("all", "at least one")]
    cases.append(s.case("pair", (), "all", "only_one_exists"))
    compiled = compile_definitions(etree.fromstring(s.definitions()))
    with_objects = etree.fromstring(s.syschar())
    searched = etree.fromstring(syschar_doc([], s.items))
    for sc in (with_objects, searched):
        ev = compiled.evaluate(sc)
        assert [ev.definition_results[c.def_id] for c in cases] == ["false", "true", "false"]
        assert [ref for ref, _r in ev.test_result(cases[0].test_id).tested_items] == ["1", "2"]


def test_empty_collected_object_is_written_so_oscap_reads_its_neighbour(tmp_path):
    """oscap 1.3.7 loses the collected object that follows one without children when no text
    separates them ("No syschar for object" → unknown): the builder writes one element a
    line, so the differential compares OVAL readings, not that parser accident."""
    require_tool("oscap")
    obj = [W.E("filepath", W._EXSETUP), W.E("trustee_sid", ".*", operation="pattern match")]
    s = W.Suite("fileeffectiverights53")
    s.scenario("empty", "does not exist", [], obj)
    s.scenario("next", "complete", [(None, W.rights("S-1-5-32-544", W.FULL))], obj)
    case = s.case("next", (), "all", "at_least_one_exists")
    d, out = tmp_path / "d.xml", tmp_path / "r.xml"
    d.write_bytes(s.definitions())
    got = {}
    for name, sc in (("compact", syschar_doc(s.collected, s.items)), ("indented", s.syschar())):
        (tmp_path / f"{name}.xml").write_bytes(sc)
        r = subprocess.run(["oscap", "oval", "analyse", "--results", str(out), str(d),
                            str(tmp_path / f"{name}.xml")], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        got[name] = {e.get("definition_id"): e.get("result") for e in
                     etree.parse(str(out)).iterfind(".//r:results//r:definition", RES_NS)}
    assert got["compact"][case.def_id] == "unknown"
    assert got["indented"][case.def_id] == "true"
    ours = compile_definitions(etree.fromstring(s.definitions())).evaluate(
        etree.fromstring(syschar_doc(s.collected, s.items))).definition_results
    assert ours[case.def_id] == "true"

