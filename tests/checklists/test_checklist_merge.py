"""`--merge EXISTING.ckl|cklb`: manual reviews survive, changed check text is flagged."""

from __future__ import annotations

import json

from click.testing import CliRunner
from lxml import etree

from stigscap.evaluator.cli.main import main
from tests.conftest import shared_file


def run(*args):
    return CliRunner().invoke(main, list(args))


def vulns(path) -> dict[str, etree._Element]:
    root = etree.parse(str(path)).getroot()
    out = {}
    for v in root.iter("VULN"):
        rid = next(sd.findtext("ATTRIBUTE_DATA") for sd in v.iter("STIG_DATA")
                   if sd.findtext("VULN_ATTRIBUTE") == "Rule_ID")
        out[rid] = v
    return out


def _review(path, rule_id, status, details, comments, override="", why=""):
    """Edit a CKL the way an assessor does in STIG Viewer."""
    tree = etree.parse(str(path))
    for v in tree.getroot().iter("VULN"):
        if any(sd.findtext("ATTRIBUTE_DATA") == rule_id for sd in v.iter("STIG_DATA")):
            v.find("STATUS").text = status
            v.find("FINDING_DETAILS").text = details
            v.find("COMMENTS").text = comments
            v.find("SEVERITY_OVERRIDE").text = override
            v.find("SEVERITY_JUSTIFICATION").text = why
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")


def test_manual_review_is_kept_for_rules_we_did_not_evaluate(arf_one, tmp_path):
    old = tmp_path / "old.ckl"
    assert run("export", "ckl", str(arf_one), "-o", str(old)).exit_code == 0
    _review(old, "SV-84407r1_rule", "NotAFinding", "EDSP section 4.2 reviewed.",
            "Reviewed by ISSO 2026-11-01", "low", "mitigated by SIEM")
    _review(old, "SV-84553r1_rule", "NotAFinding", "looked fine", "manual note", "medium",
            "compensating control")
    new = tmp_path / "new.ckl"
    res = run("export", "ckl", str(arf_one), "--merge", str(old), "-o", str(new))
    assert res.exit_code == 0, res.output
    v = vulns(new)
    manual = v["SV-84407r1_rule"]
    assert manual.findtext("STATUS") == "NotAFinding"
    assert manual.findtext("FINDING_DETAILS") == "EDSP section 4.2 reviewed."
    assert manual.findtext("COMMENTS") == "Reviewed by ISSO 2026-11-01"
    assert manual.findtext("SEVERITY_OVERRIDE") == "low"
    assert manual.findtext("SEVERITY_JUSTIFICATION") == "mitigated by SIEM"
    # a rule we evaluated keeps our result; the old override and comments come along
    seed = v["SV-84553r1_rule"]
    assert seed.findtext("STATUS") == "Open"
    assert "Automated check by stigscap: fail" in seed.findtext("FINDING_DETAILS")
    assert seed.findtext("SEVERITY_OVERRIDE") == "medium"
    assert "manual note" in seed.findtext("COMMENTS")


def test_merge_from_cklb_keeps_review(arf_one, tmp_path):
    old = tmp_path / "old.cklb"
    assert run("export", "cklb", str(arf_one), "-o", str(old)).exit_code == 0
    doc = json.loads(old.read_text())
    for r in doc["stigs"][0]["rules"]:
        if r["rule_id_src"] == "SV-84407r1_rule":
            r.update(status="open", finding_details="No EDSP.", comments="ticket 42",
                     overrides={"severity": {"severity": "high", "reason": "exposed"}})
    old.write_text(json.dumps(doc))
    new = tmp_path / "new.cklb"
    assert run("export", "cklb", str(arf_one), "--merge", str(old), "-o", str(new)).exit_code == 0
    rule = next(r for r in json.loads(new.read_text())["stigs"][0]["rules"]
                if r["rule_id_src"] == "SV-84407r1_rule")
    assert (rule["status"], rule["finding_details"], rule["comments"]) == (
        "open", "No EDSP.", "ticket 42")
    assert rule["overrides"] == {"severity": {"severity": "high", "reason": "exposed"}}


def test_changed_check_text_is_marked_for_review_not_carried(arf_one, kit, tmp_path):
    # the previous checklist was made from an older revision whose check text differs
    old_rules = [kit.Rule(**{**r.__dict__}) for r in kit.RULES]
    old_rules[2].rule = "SV-84407r0_rule"
    old_rules[2].check = "Old check: ask the administrator."
    old_arf = tmp_path / "old-arf.xml"
    old_arf.write_bytes(kit.make_arf([kit.EDGE01], rules=old_rules))
    old = tmp_path / "old.ckl"
    assert run("export", "ckl", str(old_arf), "-o", str(old)).exit_code == 0
    _review(old, "SV-84407r0_rule", "Open", "administrator could not say", "see ticket 7")
    new = tmp_path / "new.ckl"
    assert run("export", "ckl", str(arf_one), "--merge", str(old), "-o", str(new)).exit_code == 0
    v = vulns(new)["SV-84407r1_rule"]
    assert v.findtext("STATUS") == "Not_Reviewed"
    comments = v.findtext("COMMENTS")
    assert comments.startswith("REVIEW AGAIN: the check text changed")
    assert "previous status was Open" in comments and "see ticket 7" in comments
    assert "administrator could not say" in v.findtext("FINDING_DETAILS")


def test_real_stig_viewer_checklists_are_readable_as_merge_input(arf_one, tmp_path):
    for name in ("ckl_stigviewer2.17_rhel9_11vulns_allstatuses_heimdall2.ckl",
                 "cklb_vpn_srg_all4statuses_stigmanager-client-modules.cklb"):
        src = shared_file("samples", name)
        out = tmp_path / (name + ".out.ckl")
        res = run("export", "ckl", str(arf_one), "--merge", str(src), "-o", str(out))
        assert res.exit_code == 0, res.output
        assert len(vulns(out)) == 3      # other STIG's reviews match no rule: nothing carried


def test_unreadable_or_invalid_merge_file_is_an_error_without_output(arf_one, tmp_path):
    cases = {"missing.ckl": None, "garbage.ckl": b"\x00\x01 not a checklist",
             "broken.cklb": b'{"stigs": [', "wrong.ckl": b"<Benchmark/>",
             "badstatus.ckl": None}
    good = tmp_path / "good.ckl"
    assert run("export", "ckl", str(arf_one), "-o", str(good)).exit_code == 0
    for name, data in cases.items():
        p = tmp_path / name
        if name == "badstatus.ckl":
            p.write_bytes(good.read_bytes().replace(b"<STATUS>Open</STATUS>",
                                                    b"<STATUS>Maybe</STATUS>"))
        elif data is not None:
            p.write_bytes(data)
        out = tmp_path / f"out-{name}"
        res = run("export", "ckl", str(arf_one), "--merge", str(p), "-o", str(out))
        assert res.exit_code == 1, name
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and name in lines[0], (name, res.output)
        assert not out.exists()
