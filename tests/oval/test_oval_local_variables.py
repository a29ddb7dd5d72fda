"""local_variable components (literal, variable, object_component with record_field, concat,
escape_regex, regex_capture, unique, count, substring, split) against `oscap oval analyse`."""

from __future__ import annotations

import subprocess

from lxml import etree

from tests.oval.ovalcases_builder import (F, P, State, Test, cmdlet_item, cmdlet_object, collected,
                               connector, constant_variable, criteria, criterion, definition,
                               definitions_doc, syschar_doc)
from stigscap.evaluator.oval.engine import evaluate
from tests.conftest import require_tool

O, O2 = f"{P}:obj:1", f"{P}:obj:2"
OC = f'<object_component object_ref="{O2}" item_field="value" record_field="authmechanism"/>'
LIT = "<literal_component>{}</literal_component>".format
# var index → (component XML, datatype, state field, operation, var_check, expected values)
CASES = {
    1: (LIT("^Tls$"), "string", "authmechanism", "pattern match", None, ["^Tls$"]),
    2: (f'<concat>{LIT("^")}<variable_component var_ref="{P}:var:50"/>{LIT("$")}</concat>',
        "string", "authmechanism", "pattern match", None, ["^Tls$"]),
    3: (OC, "string", "authmechanism", "equals", "at least one",
        ["Tls", "Tls, ExchangeServer", "Tls"]),
    4: (f"<escape_regex>{LIT('Tls, Exchange.Server')}</escape_regex>", "string",
        "authmechanism", "pattern match", None, [r"Tls, Exchange\.Server"]),
    6: (f'<regex_capture pattern="^(\\w+)">{LIT("Tls, ExchangeServer")}</regex_capture>',
        "string", "authmechanism", "equals", None, ["Tls"]),
    7: (f"<unique>{OC}{OC}</unique>", "string", "authmechanism", "equals", "at least one",
        ["Tls", "Tls, ExchangeServer"]),
    8: (f"<count>{OC}</count>", "int", "count", "equals", None, ["3"]),
    9: (f'<substring substring_start="1" substring_length="3">{LIT("Tlsxyz")}</substring>',
        "string", "authmechanism", "equals", None, ["Tls"]),
    10: (f'<split delimiter=", ">{LIT("Tls, ExchangeServer")}</split>', "string",
         "authmechanism", "equals", "at least one", ["Tls", "ExchangeServer"]),
}


def _docs():
    variables = [constant_variable(f"{P}:var:50", ["Tls"])]
    states, tests, defs = [], [], []
    for i, (comp, dt, fname, op, vc, _vals) in CASES.items():
        vid = f"{P}:var:{i}"
        variables.append(f'<local_variable id="{vid}" version="1" datatype="{dt}" '
                         f'comment="l">{comp}</local_variable>')
        states.append(State(f"{P}:ste:{i}", [F(fname, None, dt, op, vid, vc)]).xml())
        tests.append(Test(f"{P}:tst:{i}", O, [f"{P}:ste:{i}"]).xml())
        defs.append(definition(f"{P}:def:{i}", criteria("AND", criterion(f"{P}:tst:{i}"))))
    d = definitions_doc(defs, tests, [cmdlet_object(O), cmdlet_object(O2)], states, variables)
    s = syschar_doc([collected(O, "complete", [1]), collected(O2, "complete", [2])],
                    [cmdlet_item(1, [[("authmechanism", "Tls"), ("count", "2", "int")],
                                     [("authmechanism", "Tls, ExchangeServer"),
                                      ("count", "2", "int")]]),
                     cmdlet_item(2, [connector("B", "Tls"), connector("C", "Tls, ExchangeServer"),
                                     connector("D", "Tls")])])
    return d, s


def test_local_variable_values_and_results_match_oscap(tmp_path):
    d, s = _docs()
    ev = evaluate(etree.fromstring(d), etree.fromstring(s))
    for i, case in CASES.items():
        assert ev.variable_values(f"{P}:var:{i}") == (case[5], None), i
    results = ev.definition_results
    assert set(results.values()) >= {"true", "false"}
    require_tool("oscap")
    (tmp_path / "d.xml").write_bytes(d)
    (tmp_path / "s.xml").write_bytes(s)
    r = subprocess.run(["oscap", "oval", "validate", str(tmp_path / "d.xml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["oscap", "oval", "analyse", "--results", str(tmp_path / "o.xml"),
                        str(tmp_path / "d.xml"), str(tmp_path / "s.xml")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    theirs = {e.get("definition_id"): e.get("result") for e in etree.parse(
        str(tmp_path / "o.xml")).iterfind(
        ".//{http://oval.mitre.org/XMLSchema/oval-results-5}definition")
        if e.get("definition_id")}
    assert results == theirs
