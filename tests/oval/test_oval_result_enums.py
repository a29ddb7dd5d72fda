"""Results are enums (oval/values.py, xccdf/values.py) whose text is the schema's string: the
engine hands out `OvalResult` members, and str(), f-strings, JSON and comparisons with plain
strings give exactly the words written before (the documents' bytes are checked by the
differential and generated-content tests)."""

from __future__ import annotations

import json

from lxml import etree

from tests.oval.ovalcases_builder import (F, P, State, Test, cmdlet_item, cmdlet_object, collected,
                               connector, criteria, criterion, definition, definitions_doc,
                               external_variable, syschar_doc)
from stigscap.evaluator.oval.engine import evaluate
from stigscap.evaluator.oval.values import (Check, Existence, Flag, ItemStatus, Operator,
                                            OvalResult)
from stigscap.evaluator.xccdf.values import XccdfResultType

VAR, DEF, OBJ = f"{P}:var:1", f"{P}:def:1", f"{P}:obj:1"


def _docs(auths):
    defs = definitions_doc(
        [definition(DEF, criteria("AND", criterion(f"{P}:tst:1")))],
        [Test(f"{P}:tst:1", OBJ, [f"{P}:ste:1"]).xml()],
        [cmdlet_object(OBJ)],
        [State(f"{P}:ste:1", [F("authmechanism", None, operation="pattern match",
                                var_ref=VAR)]).xml()],
        [external_variable(VAR)])
    sc = syschar_doc([collected(OBJ, "complete", [1])],
                     [cmdlet_item(1, [connector(f"C{i}", a) for i, a in enumerate(auths)])])
    return etree.fromstring(defs), etree.fromstring(sc)


def test_the_engine_hands_out_oval_result_members():
    ev = evaluate(*_docs(["Tls", "None"]), {VAR: ["^Tls$"]})
    result = ev.definition_results[DEF]
    assert type(result) is OvalResult and result is OvalResult.FALSE
    tr = ev.test_result(f"{P}:tst:1")
    assert type(tr.result) is OvalResult
    assert all(type(r) is OvalResult for _item, r in tr.tested_items)
    assert all(type(r) is OvalResult for r, _node in ev.criteria_results.values())
    (test,) = ev.evidence(DEF)
    assert type(test.result) is OvalResult
    failures = [f for item in test.items for rec in item.records for f in rec.failures]
    assert failures and all(type(f.result) is OvalResult for f in failures)


def test_members_read_as_the_schema_strings():
    ne = OvalResult.NOT_EVALUATED
    assert (str(ne), f"{ne}", format(ne, ">14"), "%s" % ne) == \
        ("not evaluated", "not evaluated", " not evaluated", "not evaluated")
    assert ne == "not evaluated" and {"not evaluated": 1}[ne] == 1
    assert json.dumps({"r": ne, ne: XccdfResultType.NOTAPPLICABLE}) == \
        '{"r": "not evaluated", "not evaluated": "notapplicable"}'
    assert [str(m) for m in OvalResult] == ["true", "false", "unknown", "error",
                                            "not evaluated", "not applicable"]
    assert [str(m) for m in Operator] == ["AND", "ONE", "OR", "XOR"]
    assert [str(m) for m in Check] == ["all", "at least one", "none exist", "none satisfy",
                                       "only one"]
    assert [str(m) for m in Existence] == ["all_exist", "any_exist", "at_least_one_exists",
                                           "none_exist", "only_one_exists"]
    assert [str(m) for m in ItemStatus] == ["exists", "does not exist", "not collected",
                                            "error"]
    assert [str(m) for m in Flag] == ["error", "complete", "incomplete", "does not exist",
                                      "not collected", "not applicable"]
    assert [str(m) for m in XccdfResultType] == [
        "pass", "fail", "error", "unknown", "notapplicable", "notchecked", "notselected",
        "informational", "fixed"]
    el = etree.Element("r", {"result": ne})
    el.text = XccdfResultType.NOTCHECKED
    assert etree.tostring(el) == b'<r result="not evaluated">notchecked</r>'
