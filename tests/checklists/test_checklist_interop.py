"""Third-party readers as judges: STIG Manager's parser (CKL, CKLB) and saf ckl2hdf (CKL)."""

from __future__ import annotations

import json
import re
import subprocess

from click.testing import CliRunner
from lxml import etree

from stigscap.evaluator.cli.main import main
from tests.conftest import shared_file

# what STIG Manager imports for each checklist status (importOptions.unreviewed 'always')
SMC_RESULT = {"NotAFinding": "pass", "Open": "fail", "Not_Applicable": "notapplicable",
              "Not_Reviewed": "notchecked"}
CKLB_TO_CKL = {"not_a_finding": "NotAFinding", "open": "Open",
               "not_applicable": "Not_Applicable", "not_reviewed": "Not_Reviewed"}


def _export(fmt, arfs, out, *extra):
    res = CliRunner().invoke(main, ["export", fmt, *map(str, arfs), "-o", str(out), *extra])
    assert res.exit_code == 0, res.output
    return out


def _expected(path) -> dict[str, str]:
    """Rule_ID → status, counted from the raw file (not from our reader)."""
    if path.suffix == ".cklb":
        doc = json.loads(path.read_text())
        return {r["rule_id_src"]: CKLB_TO_CKL[r["status"]] for s in doc["stigs"]
                for r in s["rules"]}
    out = {}
    for v in etree.parse(str(path)).getroot().iter("VULN"):
        rid = next(sd.findtext("ATTRIBUTE_DATA") for sd in v.iter("STIG_DATA")
                   if sd.findtext("VULN_ATTRIBUTE") == "Rule_ID")
        out[rid] = v.findtext("STATUS")
    return out


def _smc(kit, path) -> dict:
    proc = kit.run_node("smc-parse.mjs", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def test_stig_manager_reads_every_checklist(kit, arf_one, arf_two, tmp_path):
    kit.node_tools()
    stig = tmp_path / "U_Fixture_Manual-xccdf.xml"
    stig.write_bytes(kit.disa_stig_xml(kit.RULES, "Release: 5 Benchmark Date: 26 Apr 2019"))
    files = []
    for fmt in ("ckl", "cklb"):
        files += list(_export(fmt, [arf_one, arf_two], tmp_path / fmt).iterdir())
        files.append(_export(fmt, [arf_one], tmp_path / f"full.{fmt}", "--stig", str(stig)))
    seen_statuses = set()
    for f in files:
        want = _expected(f)
        got = _smc(kit, f)
        assert "error" not in got, (f, got)
        assert got["target"]["name"] in ("EDGE01", "EDGE02")
        [cl] = got["checklists"]
        assert cl["benchmarkId"] == "MS_Exchange_2013_Edge_STIG"
        assert cl["revisionStr"] == "V1R5"
        reviews = {r["ruleId"]: r["result"] for r in cl["reviews"]}
        assert len(cl["reviews"]) == len(want), f           # every rule, none dropped
        assert reviews == {k: SMC_RESULT[v] for k, v in want.items()}, f
        seen_statuses |= set(want.values())
    assert seen_statuses == set(SMC_RESULT)


def test_stig_manager_reads_the_full_real_stig_checklist(kit, arf_one, tmp_path):
    kit.node_tools()
    stig = shared_file("samples",
                       "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R6_Manual-xccdf.xml")
    for fmt in ("ckl", "cklb"):
        out = _export(fmt, [arf_one], tmp_path / f"v1r6.{fmt}", "--stig", str(stig))
        [cl] = _smc(kit, out)["checklists"]
        assert cl["revisionStr"] == "V1R6"
        assert len(cl["reviews"]) == 63
        assert {r["ruleId"]: r["result"] for r in cl["reviews"]}["SV-234760r961632_rule"] == "fail"


def test_saf_ckl2hdf_reads_our_ckl(kit, arf_one, arf_two, tmp_path):
    nm = kit.node_tools()
    saf = nm / ".bin" / "saf"
    ckls = list(_export("ckl", [arf_one, arf_two], tmp_path / "ckl").iterdir())
    procs = []
    for i, ckl in enumerate(ckls):
        work = tmp_path / f"saf{i}"      # saf writes saf-cli.log into its working directory
        work.mkdir()
        procs.append((ckl, work, subprocess.Popen(
            [str(saf), "convert", "ckl2hdf", "-i", str(ckl), "-o", str(work / "hdf.json")],
            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    hdf_status = {"NotAFinding": "passed", "Open": "failed", "Not_Reviewed": "skipped",
                  "Not_Applicable": "skipped"}
    for ckl, work, proc in procs:
        out, err = proc.communicate(timeout=180)
        hdf = work / "hdf.json"
        assert hdf.exists(), out + err            # saf exits 0 even when it fails
        doc = json.loads(hdf.read_text())
        [profile] = doc["profiles"]
        assert profile["name"] == "MS_Exchange_2013_Edge_STIG"
        want = _expected(ckl)
        by_vuln = {c["tags"]["rid"]: c for c in profile["controls"]}
        assert set(by_vuln) == set(want)
        for rid, status in want.items():
            control = by_vuln[rid]
            assert [r["status"] for r in control["results"]] == [hdf_status[status]], rid
            if status == "Not_Applicable":
                assert control["impact"] == 0
        seed = by_vuln["SV-84553r1_rule"]
        assert seed["tags"]["gid"] == "V-69931" and seed["tags"]["nist"] == ["SC-8"]


def test_a_5000_character_host_name_does_not_stop_the_other_checklists(kit, tmp_path):
    """8 ARFs, one of a host with a 5,000-character name: 8 checklists in each format, every
    one read by STIG Manager; the long name is cut to its 255-character limit and the file
    name stays short (it aborted the whole export with 'File name too long')."""
    kit.node_tools()
    long_name = "EDGE-" + "x" * 4995
    hosts = [kit.Host(f"EDGE{i:02d}", f"192.0.2.{20 + i}", f"00:15:5D:00:00:{20 + i}",
                      {"SV-84553r1_rule": "pass", "SV-84405r1_rule": "fail"}) for i in range(7)]
    hosts.insert(3, kit.Host(long_name, "192.0.2.99", "00:15:5D:00:00:99",
                             {"SV-84553r1_rule": "fail", "SV-84405r1_rule": "pass"}))
    arfs = []
    for i, h in enumerate(hosts):
        arfs.append(tmp_path / f"arf{i}.xml")
        arfs[-1].write_bytes(kit.make_arf([h]))
    for fmt in ("ckl", "cklb"):
        files = sorted(_export(fmt, arfs, tmp_path / fmt).iterdir())
        assert len(files) == 8, files
        names = {}
        for f in files:
            assert len(f.name.encode()) <= 255 and not f.name.startswith(".")
            got = _smc(kit, f)
            assert "error" not in got, (f, got)
            [cl] = got["checklists"]
            names[got["target"]["name"]] = {r["ruleId"]: r["result"] for r in cl["reviews"]}
        assert set(names) - {h.name for h in hosts} == {next(n for n in names if len(n) > 8)}
        clipped = next(n for n in names if len(n) > 8)
        assert len(clipped) == 255 and clipped.startswith("EDGE-xxx")
        assert re.fullmatch(r"EDGE-x+~[0-9a-f]{8}", clipped)
        assert names[clipped] == {"SV-84553r1_rule": "fail", "SV-84405r1_rule": "pass",
                                  "SV-84407r1_rule": "notchecked"}
        assert names["EDGE00"]["SV-84405r1_rule"] == "fail"
        long_file = next(f for f in files if f.name.startswith("EDGE-"))
        assert long_file.name.endswith(f"_MS_Exchange_2013_Edge_STIG.{fmt}")
