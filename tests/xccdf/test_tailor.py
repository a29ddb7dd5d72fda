"""`stigscap tailor` writes a valid XCCDF 1.2 tailoring file whose choices eval, run and scan
apply (and oscap reads); every id is checked first (issue 15 item 3)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from lxml import etree

from stigscap.schemas.namespaces import XCCDF12
from tests.cli_helpers import assert_one_line_error, stigscap

TS = "2026-12-01T00:00:00Z"
SEED = "xccdf_mil.disa.stig_rule_SV-84553r1_rule"          # EX13-EG-000340
UNSELECT = "xccdf_mil.disa.stig_rule_SV-84405r1_rule"      # EX13-EG-000005
SITE_RULE = "EX13-EG-000345"                                # Value send_connector_tlsdomain


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("tailor")
    assert stigscap("generate", "-o", d / "ds.xml").rc == 0
    assert stigscap("collect", "-d", d / "ds.xml", "--example", "-o", d / "sc.xml",
                    "--timestamp", TS).rc == 0
    run = stigscap("tailor", d / "ds.xml", "--profile", "MAC-1_Classified",
                   "--unselect", "SV-84405r1_rule", "--refine-value",
                   "receive_connector_authmechanism=includes", "--set-value",
                   r"send_connector_tlsdomain=^mail\.example\.mil$", "--timestamp", TS,
                   "-o", d / "t.xml")
    assert run.rc == 0, run.err
    return d


def _results(arf) -> dict[str, str]:
    root = etree.parse(str(arf)).getroot()
    return {rr.get("idref"): rr.findtext(f"{{{XCCDF12}}}result")
            for rr in root.iter(f"{{{XCCDF12}}}rule-result")}


def _rule_by_version(ds, version: str) -> str:
    root = etree.parse(str(ds)).getroot()
    return next(r.get("id") for r in root.iter(f"{{{XCCDF12}}}Rule")
                if r.findtext(f"{{{XCCDF12}}}version") == version)


def test_the_file_is_valid_for_us_and_for_oscap(work):
    assert stigscap("validate", work / "t.xml").rc == 0
    if shutil.which("oscap"):
        r = subprocess.run(["oscap", "xccdf", "validate", "--skip-schematron", work / "t.xml"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    root = etree.parse(str(work / "t.xml")).getroot()
    prof = root.find(f"{{{XCCDF12}}}Profile")
    assert prof.get("extends") == "xccdf_mil.disa.stig_profile_MAC-1_Classified"
    assert root.find(f"{{{XCCDF12}}}version").get("time") == "2026-12-01T00:00:00"


def test_eval_applies_the_tailoring(work):
    plain, tailored = work / "plain.xml", work / "tailored.xml"
    assert stigscap("eval", work / "ds.xml", "--system-characteristics", work / "sc.xml",
                    "--profile", "MAC-1_Classified", "--results-arf", plain, "--timestamp",
                    TS).rc == 2
    # the oscap spelling of the option, and the tailored profile by its short id
    assert stigscap("eval", work / "ds.xml", "--system-characteristics", work / "sc.xml",
                    "--tailoring-file", work / "t.xml", "--profile",
                    "MAC-1_Classified_tailored", "--results-arf", tailored, "--timestamp",
                    TS).rc == 2
    before, after = _results(plain), _results(tailored)
    assert before[UNSELECT] != "notselected" and after[UNSELECT] == "notselected"
    site = _rule_by_version(work / "ds.xml", SITE_RULE)
    assert before[site] == "notchecked" and after[site] in ("pass", "fail")
    changed = {k for k in before if before[k] != after[k]}
    assert changed <= {UNSELECT, site, SEED}


def test_run_takes_the_tailoring(work, tmp_path):
    out = tmp_path / "run"
    r = stigscap("run", "--example", "--output", out, "--tailoring", work / "t.xml", "--profile",
                 "MAC-1_Classified_tailored", "--timestamp", TS)
    assert r.rc == 2, r.err
    assert _results(next(out.glob("*-arf.xml")))[UNSELECT] == "notselected"


@pytest.mark.parametrize("args, needle", [
    (["--unselect", "EX13-EG-999999"], "no rule 'EX13-EG-999999'"),
    (["--set-value", "no_such_value=1"], "no Value 'no_such_value'"),
    (["--refine-value", "receive_connector_authmechanism=loose"], "no selector 'loose'"),
    (["--select", "EX13-EG-000005", "--unselect", "SV-84405r1_rule"], "selected and unselected"),
    ([], "nothing to tailor"),
])
def test_bad_ids_are_one_line_errors_and_nothing_is_written(work, tmp_path, args, needle):
    out = tmp_path / "t.xml"
    run = stigscap("tailor", work / "ds.xml", "--profile", "MAC-1_Classified", *args, "-o", out)
    assert_one_line_error(run, needle)
    assert not out.exists()
