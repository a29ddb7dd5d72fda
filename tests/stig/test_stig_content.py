"""The Exchange 2013 Edge V1R5 content: every rule loads, matches DISA, and its check is honest."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stigscap.content.loader import load_content
from stigscap.generator.disa_xccdf import read_disa_benchmark
from tests.conftest import shared_file
from tests.stig.stig_case_eval import evaluate_rule

HERE = Path(__file__).parent
REPO = HERE.parents[1]
CONTENT = load_content(REPO / "content")
CASES = yaml.safe_load((HERE / "cases" / "edge_v1r5.yaml").read_text(encoding="utf-8"))
AUTOMATED = [r for r in CONTENT.rules if r.automated]
MANUAL = [r for r in CONTENT.rules if not r.automated]
V1R5 = ("samples", "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R5_Manual-xccdf.xml")
DISA_FACTS = ("group_id", "group_title", "rule_id", "version", "severity", "weight", "title",
              "discussion", "check_content", "check_id", "fix_text", "fix_id", "ccis", "legacy_ids")


def test_every_rule_file_loads_and_is_named_by_stig_id():
    assert len(CONTENT.rules) == 63
    files = sorted(p.stem for p in (REPO / "content" / "rules").glob("*.yaml"))
    assert files == sorted(r.version for r in CONTENT.rules)


def test_at_least_45_rules_are_automated():
    assert len(AUTOMATED) >= 45, len(AUTOMATED)
    assert len(AUTOMATED) + len(MANUAL) == 63


def test_manual_rules_say_why_and_automated_rules_are_not_drafts():
    for r in MANUAL:
        assert r.review and r.review.startswith("manual: "), r.version
        assert not r.values, r.version
    for r in AUTOMATED:
        assert r.review is None, r.version
        assert r.check.meaning and "Draft" not in r.check.meaning


def test_content_facts_equal_disa_v1r5():
    b = read_disa_benchmark(shared_file(*V1R5))
    assert sorted(r.rule_id for r in b.rules) == sorted(r.rule_id for r in CONTENT.rules)
    for r in CONTENT.rules:
        disa = b.rule(r.rule_id)
        for name in DISA_FACTS:
            assert getattr(r, name) == getattr(disa, name), (r.version, name)


def test_shared_value_ids_are_defined_identically():
    seen = {}
    for r in CONTENT.rules:
        for v in r.values:
            assert seen.setdefault(v.id, v) == v, v.id


def test_site_defined_values_are_flagged():
    # site_must_set: organization-defined with no usable default (placeholders); the others
    # are organization-defined too but carry the STIG's / Exchange's default
    must = {v.id for r in CONTENT.rules for v in r.values if v.site_must_set}
    # issue 14: which Receive connectors are internal (EX13-EG-000245) is a site fact too
    assert must == {"send_connector_tlsdomain", "transport_config_internalsmtpservers",
                    "receive_connector_internal_names"}
    for r in CONTENT.rules:
        for v in r.values:
            if v.site_must_set and v.id != "receive_connector_internal_names":
                assert "<" in v.default_value(), (v.id, "a placeholder that matches nothing")
    # its untailored value names every connector: never fewer connectors than the STIG means
    v = CONTENT.rule("EX13-EG-000245").values[0]
    assert v.default_value() == ".*"


def test_every_automated_rule_has_both_cases():
    assert sorted(CASES) == sorted(r.rule_id for r in AUTOMATED)
    for r in AUTOMATED:
        cmdlets = {t.object.cmdlet for t in r.check.tests}
        for kind in ("compliant", "noncompliant"):
            case = CASES[r.rule_id][kind]
            assert set(case) - {"values"} == cmdlets, (r.rule_id, kind)
            for t in r.check.tests:
                for item in case[t.object.cmdlet]:
                    # every object in a case carries every selected property
                    assert {k.lower() for k in item} == {s.lower() for s in t.object.select}, \
                        (r.rule_id, kind, t.object.cmdlet)
            for vid in case.get("values", {}):
                assert vid in {v.id for v in r.values}, (r.rule_id, vid)


@pytest.mark.parametrize("shape", ["object", "record"])
@pytest.mark.parametrize("rule", AUTOMATED, ids=lambda r: r.version)
def test_cases_pass_and_fail_as_the_stig_says(rule, shape):
    case = CASES[rule.rule_id]
    assert evaluate_rule(rule, case["compliant"], shape) is True
    assert evaluate_rule(rule, case["noncompliant"], shape) is False


def test_site_must_set_placeholders_never_pass_untailored():
    # A placeholder default must not turn into a guessed pass: the compliant data of a rule whose
    # Value the site must set fails when the site has not set it (or the default is the STIG's).
    for rule_id in ("SV-84527r1_rule", "SV-84555r1_rule", "SV-84515r1_rule"):
        rule = CONTENT.rule(rule_id)
        case = {k: v for k, v in CASES[rule_id]["compliant"].items() if k != "values"}
        assert evaluate_rule(rule, case) is False, rule_id
        assert evaluate_rule(rule, case, "record") is False, rule_id
