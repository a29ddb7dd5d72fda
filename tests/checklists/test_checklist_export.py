"""`stigscap export ckl|cklb`: content, order, schema, statuses, --stig, bad input."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from click.testing import CliRunner
from lxml import etree

from stigscap.evaluator.cli.main import main
from stigscap.evaluator.checklists.export import checklist_from_arf, render_checklists
from tests.conftest import shared_file as shared

X12 = "http://checklists.nist.gov/xccdf/1.2"
MAP_CKL = {"pass": "NotAFinding", "fixed": "NotAFinding", "fail": "Open",
           "notapplicable": "Not_Applicable"}
MAP_CKLB = {"NotAFinding": "not_a_finding", "Open": "open", "Not_Applicable": "not_applicable",
            "Not_Reviewed": "not_reviewed"}
V1R5 = "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R5_Manual-xccdf.xml"
V1R6 = "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R6_Manual-xccdf.xml"


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def arf_results(path) -> dict[tuple[str, str], str]:
    """(host, SV-rule id) → XCCDF result, read straight from the ARF with lxml."""
    root = etree.parse(str(path)).getroot()
    out = {}
    for tr in root.iter(f"{{{X12}}}TestResult"):
        host = tr.findtext(f"{{{X12}}}target")
        for rr in tr.iter(f"{{{X12}}}rule-result"):
            rid = re.sub(r"^xccdf_[^_]+_rule_", "", rr.get("idref"))
            out[(host, rid)] = rr.findtext(f"{{{X12}}}result")
    return out


def ckl_statuses(data: bytes) -> dict[tuple[str, str], str]:
    root = etree.fromstring(data)
    host = root.findtext("ASSET/HOST_NAME")
    out = {}
    for v in root.iter("VULN"):
        rid = next(sd.findtext("ATTRIBUTE_DATA") for sd in v.iter("STIG_DATA")
                   if sd.findtext("VULN_ATTRIBUTE") == "Rule_ID")
        out[(host, rid)] = v.findtext("STATUS")
    return out


def cklb_statuses(data: bytes) -> dict[tuple[str, str], str]:
    doc = json.loads(data)
    host = doc["target_data"]["host_name"]
    return {(host, r["rule_id_src"]): r["status"] for s in doc["stigs"] for r in s["rules"]}


def test_one_arf_gives_one_ckl_file_with_asset_and_stig_info(arf_one, tmp_path):
    out = tmp_path / "edge01.ckl"
    res = run("export", "ckl", str(arf_one), "-o", str(out))
    assert res.exit_code == 0, res.output
    root = etree.parse(str(out)).getroot()
    asset = root.find("ASSET")
    assert [c.tag for c in asset] == [
        "ROLE", "ASSET_TYPE", "MARKING", "HOST_NAME", "HOST_IP", "HOST_MAC", "HOST_FQDN",
        "TARGET_COMMENT", "TECH_AREA", "TARGET_KEY", "WEB_OR_DATABASE", "WEB_DB_SITE",
        "WEB_DB_INSTANCE"]
    assert asset.findtext("HOST_NAME") == "EDGE01"
    assert asset.findtext("HOST_IP") == "192.0.2.11"
    assert asset.findtext("HOST_MAC") == "00:15:5D:00:00:11"
    assert asset.findtext("HOST_FQDN") == "edge01.example.mil"
    assert asset.findtext("TECH_AREA") == "Exchange Server"
    si = {d.findtext("SID_NAME"): d.findtext("SID_DATA") for d in root.iter("SI_DATA")}
    assert si["stigid"] == "MS_Exchange_2013_Edge_STIG"
    assert si["releaseinfo"] == "Release: 5 Benchmark Date: 26 Apr 2019"
    assert si["version"] == "1"
    assert str(uuid.UUID(si["uuid"])) == si["uuid"]
    assert len(root.findall(".//VULN")) == 3


def test_seed_rule_fields_and_finding_details(arf_one, kit):
    root = etree.fromstring(checklist_from_arf(arf_one, "ckl"))
    vuln = next(v for v in root.iter("VULN") if "SV-84553r1_rule" in etree.tostring(v).decode())
    data = {}
    for sd in vuln.iter("STIG_DATA"):
        data.setdefault(sd.findtext("VULN_ATTRIBUTE"), []).append(sd.findtext("ATTRIBUTE_DATA"))
    assert data["Vuln_Num"] == ["V-69931"]
    assert data["Severity"] == ["high"]
    assert data["Group_Title"] == ["SRG-APP-000439"]
    assert data["Rule_Ver"] == ["EX13-EG-000340"]
    assert data["Check_Content"] == [kit.SEED_CHECK]
    assert data["Fix_Text"] == [kit.SEED_FIX]
    assert data["CCI_REF"] == ["CCI-002418"]
    assert data["STIGRef"][0].endswith(":: Version 1, Release: 5 Benchmark Date: 26 Apr 2019")
    assert vuln.findtext("STATUS") == "Open"
    details = vuln.findtext("FINDING_DETAILS")
    # each failing connector with its AuthMechanism, what was expected, tool and time
    assert "EDGE01\\Default internal receive connector EDGE01" in details
    assert "authmechanism=None" in details and "authmechanism=Tls, ExchangeServer" in details
    assert "[ok] name=Secure EDGE01" in details
    assert "[FAIL] name=Default EDGE01; identity=EDGE01\\Default EDGE01" in details
    assert "receive_connector_authmechanism = ^Tls$" in details
    assert "cpe:/a:stigscap:stigscap:0.1.0" in details and "2026-11-28T03:00:00Z" in details


def test_stig_data_and_si_data_follow_stig_viewer_2_17_order(arf_one):
    sample = etree.parse(str(shared("samples",
                                    "ckl_stigviewer2.17_rhel9_11vulns_allstatuses_heimdall2.ckl")))
    ours = etree.fromstring(checklist_from_arf(arf_one, "ckl"))

    def order(root):
        v = root.find(".//VULN")
        names = [sd.findtext("VULN_ATTRIBUTE") for sd in v.iter("STIG_DATA")]
        return [n for i, n in enumerate(names) if n != "CCI_REF" or "CCI_REF" not in names[:i]]

    assert order(ours) == order(sample)
    si = lambda r: [d.findtext("SID_NAME") for d in r.find(".//STIG_INFO")]  # noqa: E731
    assert si(ours) == si(sample)
    v = ours.find(".//VULN")
    assert [c.tag for c in v][-5:] == [c.tag for c in sample.find(".//VULN")][-5:]


def test_ckl_validates_against_disa_schema_2_5(arf_fleet, tmp_path):
    schema = etree.XMLSchema(etree.parse(str(shared("samples", "U_Checklist_Schema_V2.5.xsd"))))
    out = tmp_path / "out"
    assert run("export", "ckl", str(arf_fleet), "-o", str(out)).exit_code == 0
    files = sorted(out.glob("*.ckl"))
    assert [f.name for f in files] == ["EDGE01_MS_Exchange_2013_Edge_STIG.ckl",
                                       "EDGE02_MS_Exchange_2013_Edge_STIG.ckl"]
    for f in files:
        doc = etree.parse(str(f))
        assert schema.validate(doc), schema.error_log


def test_status_is_the_same_in_arf_ckl_and_cklb(arf_one, arf_two, arf_fleet, tmp_path):
    arf = {}
    for a in (arf_one, arf_two):
        arf.update(arf_results(a))
    assert set(arf.values()) >= {"pass", "fail", "notapplicable", "notchecked"}
    for fmt in ("ckl", "cklb"):
        out = tmp_path / fmt
        assert run("export", fmt, str(arf_one), str(arf_two), "-o", str(out)).exit_code == 0
        got = {}
        for f in out.iterdir():
            got.update(ckl_statuses(f.read_bytes()) if fmt == "ckl"
                       else cklb_statuses(f.read_bytes()))
        assert set(got) == set(arf)
        for key, result in arf.items():
            want = MAP_CKL.get(result, "Not_Reviewed")
            assert got[key] == (want if fmt == "ckl" else MAP_CKLB[want]), key
    # the fleet ARF (two assets in one ARF) gives the same statuses
    out = tmp_path / "fleet"
    assert run("export", "cklb", str(arf_fleet), "-o", str(out)).exit_code == 0
    got = {}
    for f in out.iterdir():
        got.update(cklb_statuses(f.read_bytes()))
    assert got == {k: MAP_CKLB[MAP_CKL.get(v, "Not_Reviewed")] for k, v in arf.items()}


def test_cklb_carries_only_stig_viewer_3_fields(arf_one):
    sample = json.loads(shared("samples", "cklb_evaluate-stig_chrome_trimmed_"
                                          "stigmanager-client-modules.cklb").read_text())
    doc = json.loads(checklist_from_arf(arf_one, "cklb"))
    ext = {"evaluate-stig"}
    assert set(doc) <= set(sample) - ext
    assert set(doc["target_data"]) <= set(sample["target_data"])
    sample_stig = sample["stigs"][0]
    allowed_stig = (set(sample_stig) - ext) | {"version"}   # STIG Viewer 3.5 writes version
    for stig_entry in doc["stigs"]:
        assert set(stig_entry) <= allowed_stig
        assert isinstance(stig_entry["version"], str)
        assert stig_entry["size"] == len(stig_entry["rules"]) == 3
        for r in stig_entry["rules"]:
            assert list(r) == [k for k in sample_stig["rules"][0] if k in r]
            assert set(r) == set(sample_stig["rules"][0])
            assert r["status"] in {"not_a_finding", "open", "not_applicable", "not_reviewed"}
            assert uuid.UUID(r["uuid"]) and r["stig_uuid"] == stig_entry["uuid"] == r["STIGUuid"]
            assert r["rule_id_src"].endswith("_rule")
            assert r["rule_id"] == r["rule_id_src"][:-5]
            assert r["group_tree"][0]["id"] == r["group_id"]
    assert doc["cklb_version"] == "1.0"


def test_output_is_deterministic_and_stig_uuid_stable(arf_one, arf_two):
    assert checklist_from_arf(arf_one, "ckl") == checklist_from_arf(arf_one, "ckl")
    assert checklist_from_arf(arf_one, "cklb") == checklist_from_arf(arf_one, "cklb")
    u1 = json.loads(checklist_from_arf(arf_one, "cklb"))["stigs"][0]["uuid"]
    u2 = json.loads(checklist_from_arf(arf_two, "cklb"))["stigs"][0]["uuid"]
    assert u1 == u2          # same STIG revision on another host: same STIG uuid


def test_manual_stig_lists_every_rule_not_automated_ones_not_reviewed(arf_one, kit, tmp_path):
    stig = tmp_path / "U_Fixture_STIG_V1R5_Manual-xccdf.xml"
    stig.write_bytes(kit.disa_stig_xml(kit.RULES, "Release: 5 Benchmark Date: 26 Apr 2019"))
    out = tmp_path / "full.ckl"
    assert run("export", "ckl", str(arf_one), "--stig", str(stig), "-o", str(out)).exit_code == 0
    got = ckl_statuses(out.read_bytes())
    assert len(got) == 4
    assert got[("EDGE01", "SV-84409r1_rule")] == "Not_Reviewed"    # only in the manual STIG
    assert got[("EDGE01", "SV-84553r1_rule")] == "Open"
    root = etree.parse(str(out)).getroot()
    si = {d.findtext("SID_NAME"): d.findtext("SID_DATA") for d in root.iter("SI_DATA")}
    assert si["filename"] == stig.name
    extra = next(v for v in root.iter("VULN") if "SV-84409r1_rule" in etree.tostring(v).decode())
    check = next(sd.findtext("ATTRIBUTE_DATA") for sd in extra.iter("STIG_DATA")
                 if sd.findtext("VULN_ATTRIBUTE") == "Check_Content")
    assert check.startswith("Review the backup plan.")
    assert "review it manually" in extra.findtext("COMMENTS")


def test_real_disa_v1r5_stig_gives_a_complete_valid_checklist(arf_one, tmp_path):
    stig = shared("samples", V1R5)
    schema = etree.XMLSchema(etree.parse(str(shared("samples", "U_Checklist_Schema_V2.5.xsd"))))
    out = tmp_path / "v1r5.ckl"
    assert run("export", "ckl", str(arf_one), "--stig", str(stig), "-o", str(out)).exit_code == 0
    doc = etree.parse(str(out))
    assert schema.validate(doc), schema.error_log
    dis = etree.parse(str(stig)).getroot()
    n_rules = len(dis.findall(".//{http://checklists.nist.gov/xccdf/1.1}Rule"))
    got = ckl_statuses(out.read_bytes())
    assert len(got) == n_rules
    assert got[("EDGE01", "SV-84553r1_rule")] == "Open"
    assert sum(1 for s in got.values() if s == "Not_Reviewed") == n_rules - 2


def test_renumbered_v1r6_rule_gets_the_result_through_legacy_ids(arf_one, tmp_path):
    stig = shared("samples", V1R6)
    out = tmp_path / "v1r6.cklb"
    assert run("export", "cklb", str(arf_one), "--stig", str(stig), "-o", str(out)).exit_code == 0
    doc = json.loads(out.read_text())
    rule = next(r for r in doc["stigs"][0]["rules"] if r["group_id"] == "V-234760")
    assert rule["rule_id_src"] == "SV-234760r961632_rule"
    assert set(rule["legacy_ids"]) == {"SV-84553", "V-69931"}
    assert rule["status"] == "open"
    assert "Evaluated with rule SV-84553r1_rule" in rule["finding_details"]
    assert doc["stigs"][0]["release_info"].startswith("Release: 6")


@pytest.mark.parametrize("case", ["not_xml", "xccdf_not_arf", "no_stig_rules", "no_testresult",
                                  "missing_file"])
def test_bad_arf_is_one_line_error_exit_1_no_output(case, kit, tmp_path):
    bad = tmp_path / "bad.xml"
    if case == "not_xml":
        bad.write_text("<arf:asset-report-collection")
    elif case == "xccdf_not_arf":
        bad.write_text(kit.benchmark_xml())
    elif case == "no_stig_rules":
        data = kit.make_arf([kit.EDGE01]).decode()
        bad.write_text(re.sub(r"rule_SV-(\d+)r1_rule", r"rule_content_\1", data))
    elif case == "no_testresult":
        data = kit.make_arf([kit.EDGE01]).decode()
        bad.write_text(re.sub(r'<arf:report id="xccdf1">.*?</arf:report>', "", data, flags=re.S))
    out = tmp_path / "out.ckl"
    res = CliRunner().invoke(main, ["export", "ckl", str(bad), "-o", str(out)])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stigscap: ") and "Traceback" not in res.output
    assert not out.exists() and list(tmp_path.iterdir()) == ([bad] if case != "missing_file"
                                                             else [])


def test_several_arfs_and_a_bad_one_write_nothing(arf_one, arf_two, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("not xml")
    out = tmp_path / "dir"
    res = CliRunner().invoke(main, ["export", "cklb", str(arf_one), str(arf_two), str(bad),
                                    "-o", str(out)])
    assert res.exit_code == 1 and "bad.xml" in res.output
    assert not out.exists()


def test_python_api_takes_a_parsed_arf_and_a_timestamp(arf_one):
    from stigscap.evaluator.checklists.model import ChecklistOptions
    tree = etree.parse(str(arf_one))
    doc = json.loads(checklist_from_arf(tree, "cklb", options=ChecklistOptions(
        timestamp="2026-12-01T10:00:00+01:00")))
    assert {r["createdAt"] for r in doc["stigs"][0]["rules"]} == {"2026-12-01T09:00:00.000Z"}
    default = json.loads(checklist_from_arf(tree, "cklb"))
    assert default["stigs"][0]["rules"][0]["updatedAt"] == "2026-11-28T03:00:00.000Z"
    assert ckl_statuses(checklist_from_arf(tree.getroot(), "ckl")) == \
        ckl_statuses(checklist_from_arf(arf_one, "ckl"))


def test_fleet_arf_through_single_checklist_api_is_an_error(arf_fleet):
    from stigscap.schemas.errors import StigscapError
    with pytest.raises(StigscapError, match="2 assets"):
        checklist_from_arf(arf_fleet, "ckl")


def test_bad_timestamp_is_a_one_line_error(arf_one, tmp_path):
    out = tmp_path / "x.cklb"
    res = CliRunner().invoke(main, ["export", "cklb", str(arf_one), "-o", str(out),
                                    "--timestamp", "yesterday"])
    assert res.exit_code == 1 and "ISO-8601" in res.output and not out.exists()


_XML_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(_XML_CHARS, min_size=1, max_size=40).filter(lambda s: s.strip() == s))
def test_any_connector_name_survives_ckl_and_cklb(kit, name):
    host = kit.Host("EDGE09", "192.0.2.9", "00:15:5D:00:00:09", {"SV-84553r1_rule": "fail"},
                    [(name, f"EDGE09\\{name}", "None")])
    arf = kit.make_arf([host])
    root = etree.fromstring(checklist_from_arf(arf, "ckl"))
    details = [v.findtext("FINDING_DETAILS") for v in root.iter("VULN")]
    assert any(f"name={name}; identity=EDGE09\\{name}; authmechanism=None" in d for d in details)
    doc = json.loads(checklist_from_arf(arf, "cklb"))
    assert any(f"EDGE09\\{name}" in r["finding_details"] for r in doc["stigs"][0]["rules"])


def test_long_host_names_are_cut_to_stig_managers_limit_and_stay_apart(kit):
    """Host names over 255 UTF-16 units (STIG Manager's limit; a non-BMP character counts
    two) are cut and tagged with a hash of the whole name, so two long names that share their
    first 300 characters stay two assets with two files; short names are untouched."""
    from stigscap.evaluator.checklists.model import clip_host_name
    a, b = "A" * 300 + "-one", "A" * 300 + "-two"
    wide = "\U0001F600" * 200                       # 400 UTF-16 units, 200 code points
    assert clip_host_name("EDGE01") == "EDGE01"
    assert clip_host_name("é" * 255) == "é" * 255
    for name in (a, b, wide):
        clipped = clip_host_name(name)
        assert len(clipped.encode("utf-16-le")) // 2 <= 255 and "~" in clipped
        assert clipped == clip_host_name(name)      # stable
    assert clip_host_name(a) != clip_host_name(b)
    hosts = [kit.Host(n, "192.0.2.1", "00:15:5D:00:00:01", {"SV-84553r1_rule": "pass"})
             for n in (a, b)]
    for fmt, host_of in (("ckl", lambda d: etree.fromstring(d).findtext("ASSET/HOST_NAME")),
                         ("cklb", lambda d: json.loads(d)["target_data"]["host_name"])):
        files = render_checklists([kit.make_arf([h]) for h in hosts], fmt)
        assert len(files) == 2
        assert all(len(n) <= 130 and "_2." not in n for n in files)
        assert sorted(host_of(d) for d in files.values()) == sorted(
            clip_host_name(n) for n in (a, b))
