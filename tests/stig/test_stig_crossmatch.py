"""Cross-version drafting (`import-stig`, issue 14 item 2): a new STIG's rules matched to the
rules stigscap already automates, their machine checks reused when the check text says the
same thing, and a per-rule report (reused / drafted from text / manual, score, differences)."""

from __future__ import annotations

import json

import pytest

from stigscap.content.loader import builtin_content_dir, load_content
from stigscap.content.model import Rule
from stigscap.generator.crossmatch import (applicability, changed_phrases, conditions,
                                           cross_draft, score, tokens)
from stigscap.generator.disa_xccdf import read_disa_benchmark
from stigscap.generator.import_stig import draft_rule
from tests.cli_helpers import stigscap
from tests.conftest import shared_file

CONTENT = load_content()     # the EX13 content: what stigscap automated before issue 14
SEED = CONTENT.rule("EX13-EG-000340")
FAMILY = "exchange-family"
EDGE16 = "U_MS_Exchange_2016_Edge_Transport_Server_STIG_V2R6_Manual-xccdf.xml"
MBX16 = "U_MS_Exchange_2016_Mailbox_Server_STIG_V2R6_Manual-xccdf.xml"
EDGE19 = "U_MS_Exchange_2019_Edge_Server_STIG_V2R2_Manual-xccdf.xml"


def _restated(rule: Rule, check_content: str, **facts) -> Rule:
    """`rule` as a later STIG states it: new ids, no legacy link, DISA facts only."""
    data = rule.model_dump()
    data.update({"group_id": "V-900001", "rule_id": "SV-900001r1_rule", "version": "EX99-ED-000001",
                 "legacy_ids": [], "check": None, "values": [], "nist": [], "review": None,
                 "check_content": check_content, **facts})
    return Rule.model_validate(data)


# ---- normalisation ----------------------------------------------------------------------------

def test_tokens_ignore_quotes_products_dashes_and_na_spellings():
    assert tokens('if the value of "AuthMechanism" is not set to \u201cTls\u201d') == \
        tokens("If the value of AuthMechanism is not set to Tls")
    assert tokens("Exchange 2013 anti-spam, non-Internet, N/A") == \
        tokens("Exchange 2019 antispam, nonInternet, not applicable")
    assert "get-receiveconnector" in tokens("Get-ReceiveConnector | Select Name")
    # values are kept: a different value is a different text
    assert tokens("is not set to 00:05:00") != tokens("is not set to 00:10:00")


def test_conditions_are_the_finding_sentences_and_decisive_notes():
    text = ('Note: AuthMechanism may include other mechanisms as long as the "Tls" is identified.\n\n'
            "Open the Exchange Management Shell and enter the following command:\n\n"
            "Get-ReceiveConnector | Select Name, Identity, AuthMechanism\n\n"
            'Note: the default value for "AuthMechanism" is Tls.\n\n'
            'For each Receive connector, if the value of "AuthMechanism" is not set to "Tls", '
            "this is a finding.")
    conds = conditions(text)
    assert len(conds) == 2
    assert conds[0].startswith("note: authmechanism may include")
    assert conds[1] == "if the value of authmechanism is not set to tls this is a finding"
    assert applicability("This requirement is N/A for SIPR enclaves.\n\nIf X, this is a finding.") \
        == ("this requirement is not applicable for sipr enclaves",)


def test_score_parts_are_explainable():
    same = score(_restated(SEED, SEED.check_content), SEED)
    assert (same.ids, same.check, same.title, same.srg, same.cci, same.total) == \
        (False, 1.0, 1.0, 1.0, 1.0, 1.0)
    legacy = _restated(SEED, "unrelated text", legacy_ids=["SV-84553", "V-69931"],
                       title="Something else")
    assert score(legacy, SEED).ids and score(legacy, SEED).total == 1.0
    other = score(_restated(SEED, "Run perfmon and look at the queues.", title="Queues",
                            group_title="SRG-APP-000001", ccis=["CCI-000054"]), SEED)
    assert other.total < 0.6 and other.srg == 0 and other.cci == 0


# ---- decisions ---------------------------------------------------------------------------------

def test_same_check_restated_with_quotes_reuses_the_authored_check():
    text = SEED.check_content.replace("AuthMechanism is not set to Tls",
                                      '"AuthMechanism" is not set to "Tls"')
    got = cross_draft(_restated(SEED, text), CONTENT.rules)
    assert got.outcome == "reused" and got.match.version == "EX13-EG-000340"
    assert got.draft.check == SEED.check and got.draft.values == SEED.values
    assert got.draft.version == "EX99-ED-000001"          # the new STIG's facts are kept
    # written as a reference to the requirement family, not a copy of the check
    assert got.draft.family == SEED.family == "receive-connector-requires-tls"
    assert got.draft.review.startswith("reused: family receive-connector-requires-tls, as "
                                       "EX13-EG-000340")
    assert got.phrases == ()                               # quotes alone are no difference


def test_changed_expected_value_is_not_reused_and_the_change_is_reported():
    text = SEED.check_content.replace("not set to Tls", 'not set to "Tls, ExchangeServer"')
    got = cross_draft(_restated(SEED, text), CONTENT.rules)
    assert got.outcome == "drafted"                        # from the text, not the old check
    assert got.match.version == "EX13-EG-000340" and got.reason == "finding conditions differ"
    assert ("", "exchangeserver") in got.phrases
    assert '+For each Receive connector, if the value of AuthMechanism is not set to "Tls, ' \
           'ExchangeServer", this is a finding.' in got.diff
    fields = [(f.property, f.value) for t in got.draft.check.tests for f in t.state.fields]
    assert fields == [("AuthMechanism", "Tls, ExchangeServer")]
    assert "closest authored rule EX13-EG-000340" in got.draft.review


def test_a_note_that_widens_the_value_blocks_reuse():
    text = ('Note: AuthMechanism may include other mechanisms as long as the "Tls" is identified.'
            "\n\n" + SEED.check_content)
    got = cross_draft(_restated(SEED, text), CONTENT.rules)
    assert got.outcome != "reused"
    assert any("may include other mechanisms" in new for _old, new in got.phrases)


def test_other_cmdlet_is_not_reused():
    text = SEED.check_content.replace("Get-ReceiveConnector", "Get-SendConnector")
    got = cross_draft(_restated(SEED, text), CONTENT.rules)
    assert got.outcome != "reused" or got.match.version != "EX13-EG-000340"


def test_match_to_a_manual_rule_stays_manual_with_the_reason():
    manual = CONTENT.rule("EX13-EG-000050")
    got = cross_draft(_restated(manual, manual.check_content), CONTENT.rules)
    assert (got.outcome, got.match.version) == ("manual", "EX13-EG-000050")
    assert got.reason == "EX13-EG-000050 is manual"


def test_reused_check_naming_another_product_asks_for_review():
    old = CONTENT.rule("EX13-EG-000350")
    got = cross_draft(_restated(old, old.check_content), CONTENT.rules)
    assert got.outcome == "reused"
    assert any("exchange_server_approved_version names 2013" in n for n in got.notes)


def test_quoted_forms_are_drafted_from_text():
    # DISA's 2016/2019 releases quote property names and values; before issue 14 the drafter
    # read none of them (1 of 68 rules of 2019 Edge drafted)
    rule = _restated(SEED, 'Open the Exchange Management Shell and enter the following command:\n\n'
                     'Get-ReceiveConnector | Select-Object -Property Name, Identity, ChunkingEnabled\n\n'
                     'For each receive connector, if the value of "ChunkingEnabled" is not set to '
                     '\u201cTrue\u201d, this is a finding.')
    d = draft_rule(rule)
    assert d.check is not None
    assert d.check.tests[0].object.select == ["Name", "Identity", "ChunkingEnabled"]
    assert [(f.property, f.datatype, f.value) for f in d.check.tests[0].state.fields] == \
        [("ChunkingEnabled", "boolean", "true")]


def test_changed_phrases_pairs_old_and_new():
    assert changed_phrases("if X is not set to 10 this is a finding",
                           "if X is not set to 20 this is a finding") == [("10", "20")]


# ---- the three Exchange STIGs (../shared) -------------------------------------------------------

@pytest.fixture(scope="module")
def family_results():
    out = {}
    for name in (EDGE16, MBX16, EDGE19):
        b = read_disa_benchmark(shared_file("samples", FAMILY, name))
        out[name] = {r.version: cross_draft(r, CONTENT.rules) for r in b.rules}
    return out


def test_seed_requirement_is_reused_across_products(family_results):
    for name, sid in ((EDGE16, "EX16-ED-000680"), (EDGE19, "EX19-ED-000235")):
        got = family_results[name][sid]
        assert (got.outcome, got.match.version) == ("reused", "EX13-EG-000340")
        assert got.draft.check == SEED.check
    # Mailbox: "AuthMechanism may include other mechanisms as long as Tls is identified"
    assert family_results[MBX16]["EX16-MB-000220"].outcome == "drafted"
    # 2019's "most current approved CU" is not 2013's "service pack"
    cu = family_results[EDGE19]["EX19-ED-000244"]
    assert cu.outcome == "manual" and cu.match.version == "EX13-EG-000350"
    assert any("cu" in new for _old, new in cu.phrases)


def test_most_get_rules_get_a_check(family_results):
    for name, floor in ((EDGE16, 40), (EDGE19, 35), (MBX16, 15)):
        results = family_results[name].values()
        reused = sum(r.outcome == "reused" for r in results)
        drafted = sum(r.outcome == "drafted" for r in results)
        assert reused >= floor, (name, reused)
        assert reused + drafted >= 0.7 * sum(1 for r in results if "Get-" in r.rule.check_content)
        for r in results:
            if r.outcome == "reused":
                assert r.draft.check == r.match.check and r.score.total >= 0.6 or r.score.check >= 0.9


def test_cli_reports_per_rule_table_and_json(tmp_path):
    stig = shared_file("samples", FAMILY, EDGE19)
    ex13 = builtin_content_dir()         # the numbers measured against the EX13 content
    run = stigscap("import-stig", stig, "--report-only", "--reuse-from", ex13)
    assert run.rc == 0, run.err
    assert "EX19-ED-000235   reused    0.98  EX13-EG-000340" in run.out
    assert "cross-version drafting: 38 reused, 5 drafted from text, 25 manual " \
           "(58 of 68 rules run a Get-* cmdlet)" in run.out
    run = stigscap("import-stig", stig, "--report-only", "--format", "json", "--reuse-from", ex13)
    assert run.rc == 0, run.err
    report = json.loads(run.out)
    assert report["summary"] == {"rules": 68, "get_rules": 58, "reused": 38, "drafted": 5,
                                 "manual": 25}
    seed = next(r for r in report["rules"] if r["stig_id"] == "EX19-ED-000235")
    assert (seed["outcome"], seed["match"], seed["score_parts"]["title"]) == \
        ("reused", "EX13-EG-000340", 1.0)
    assert seed["check_text_diff"].startswith("--- EX13-EG-000340 check text")
    assert report["written"] is None


def test_cli_writes_reused_drafts(tmp_path):
    stig = shared_file("samples", FAMILY, EDGE16)
    out = tmp_path / "rules"
    run = stigscap("import-stig", stig, "--output", out)
    assert run.rc == 0, run.err
    assert "wrote 68 rule files" in run.out
    from stigscap.content.loader import builtin_content_dir, load_families, load_model
    from stigscap.content.model import resolve_family
    text = (out / "EX16-ED-000680.yaml").read_text()
    assert "family: receive-connector-requires-tls" in text and "\ncheck:" not in text
    seed = load_model(out / "EX16-ED-000680.yaml", Rule)
    assert seed.check is None and seed.rule_id == "SV-221261r961632_rule"
    families = load_families(builtin_content_dir() / "families")
    assert resolve_family(seed, families[seed.family][0]).check == SEED.check
