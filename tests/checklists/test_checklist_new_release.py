"""Exporting an ARF evaluated with V1R5 content against the V1R6 STIG: a rule whose check text
changed in the new release is Not_Reviewed with the reason, never the old result carried over;
the others keep their results (issue 15 item 8)."""

from __future__ import annotations

import re

from lxml import etree

from stigscap.schemas.disa_xccdf import read_benchmark
from tests.cli_helpers import stigscap
from tests.conftest import shared_file

V1R5 = "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R5_Manual-xccdf.xml"
V1R6 = "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R6_Manual-xccdf.xml"
TO_CKL = {"pass": "NotAFinding", "fail": "Open", "notapplicable": "Not_Applicable"}
X = "{http://checklists.nist.gov/xccdf/1.2}"


def _checks(path):
    bench = read_benchmark(etree.parse(str(path)).getroot())
    return {r.id: (r, " ".join(next((c.content for c in r.checks if c.content), "").split()))
            for r in bench.rules}


def test_changed_checks_are_not_carried_over(tmp_path):
    v5, v6 = shared_file("samples", V1R5), shared_file("samples", V1R6)
    out = tmp_path / "run"
    assert stigscap("run", "--example", "--output", out, "--timestamp",
                    "2026-12-01T00:00:00Z").rc == 2
    arf = next(out.glob("*-arf.xml"))
    results = {rr.get("idref").split("stig_rule_")[-1]: rr.findtext(f"{X}result")
               for rr in etree.parse(str(arf)).getroot().iter(f"{X}rule-result")}
    old = _checks(v5)
    by_legacy = {re.sub(r"r\d+_rule$", "", rid): (rid, text) for rid, (_, text) in old.items()}
    expected_changed, carried = set(), {}
    for rid, (rule, text) in _checks(v6).items():
        match = next((by_legacy[x] for x in rule.legacy_ids if x in by_legacy),
                     by_legacy.get(re.sub(r"r\d+_rule$", "", rid)))
        if match is None or match[0] not in results:
            continue
        if match[0] != rid and match[1] != text:
            expected_changed.add(rid)
        else:
            carried[rid] = TO_CKL.get(results[match[0]], "Not_Reviewed")
    assert expected_changed, "V1R6 changes at least one check text (EX13-EG-000350)"
    ckl = tmp_path / "v6.ckl"
    assert stigscap("export", "ckl", arf, "--stig", v6, "-o", ckl).rc == 0
    vulns = {}
    for v in etree.parse(str(ckl)).getroot().iter("VULN"):
        data = {sd.findtext("VULN_ATTRIBUTE"): sd.findtext("ATTRIBUTE_DATA")
                for sd in v.iter("STIG_DATA")}
        vulns[data["Rule_ID"]] = (v.findtext("STATUS"), v.findtext("COMMENTS") or "")
    for rid in expected_changed:
        status, comments = vulns[rid]
        assert status == "Not_Reviewed" and "Not carried over" in comments, rid
    for rid, status in carried.items():
        assert vulns[rid][0] == status, rid
        assert "Not carried over" not in vulns[rid][1], rid

