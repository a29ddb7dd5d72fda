"""Heimdall Data Format from our ARF (issue 15 item 1): one control per rule with the STIG's
tags, statuses from the XCCDF results, one result per collected object (the failing ones named
with the reason); read by inspecjs (HDF's own typed parser) and `saf`."""

from __future__ import annotations

import json
import subprocess

import pytest
from lxml import etree

from stigscap.schemas.namespaces import XCCDF12
from tests.checklists.conftest import node_tools
from tests.cli_helpers import stigscap

TS = "2026-12-01T00:00:00Z"
STATUS = {"pass": "passed", "fail": "failed"}


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("hdf")
    assert stigscap("run", "--example", "--output", out / "run", "--timestamp", TS).rc == 2
    arf = next((out / "run").glob("*-arf.xml"))
    assert stigscap("export", "hdf", arf, "-o", out / "hdf.json").rc == 0
    return arf, json.loads((out / "hdf.json").read_text()), out


def _arf_results(arf):
    root = etree.parse(str(arf)).getroot()
    out = {}
    for rr in root.iter(f"{{{XCCDF12}}}rule-result"):
        rid = rr.get("idref").split("stig_rule_")[-1]
        out[rid] = (rr.findtext(f"{{{XCCDF12}}}result"),
                    [i.text for i in rr.iter(f"{{{XCCDF12}}}instance")])
    return out


def test_controls_follow_the_arf(example):
    arf, doc, _ = example
    (profile,) = doc["profiles"]
    results = _arf_results(arf)
    controls = {c["tags"]["rid"]: c for c in profile["controls"]}
    assert set(controls) == set(results)
    for rid, (result, instances) in results.items():
        c = controls[rid]
        statuses = [r["status"] for r in c["results"]]
        if result == "pass":
            assert statuses and set(statuses) == {"passed"}, rid
        elif result == "fail":
            failed = [r for r in c["results"] if r["status"] == "failed"]
            assert failed, rid
            # the failing objects are the ARF's failing instances, each with its reason
            assert len(failed) == len(instances), rid
            for inst in instances:
                assert any(inst in r["code_desc"] for r in failed), (rid, inst)
            assert all(r.get("message") for r in failed), rid
        else:
            assert statuses == ["skipped"] and c["results"][0]["skip_message"], rid
        impact = {"high": 0.7, "medium": 0.5, "low": 0.3}[c["tags"]["severity"]]
        assert c["impact"] == (0.0 if result == "notapplicable" else impact)
    seed = controls["SV-84553r1_rule"]
    assert seed["id"] == "V-69931" and seed["tags"]["stig_id"] == "EX13-EG-000340"
    assert seed["tags"]["cci"] == ["CCI-002418"] and seed["tags"]["nist"] == ["SC-8"]
    assert {d["label"] for d in seed["descriptions"]} == {"default", "check", "fix"}


def test_inspecjs_parses_it_as_hdf(example):
    nm = node_tools()
    _, _, out = example
    script = ("const fs=require('fs'); const i=require('inspecjs');"
              "const r=i.convertFile(fs.readFileSync(process.argv[1],'utf8'));"
              "console.log(Object.keys(r).join(','));")
    r = subprocess.run(["node", "-e", script, str(out / "hdf.json")], capture_output=True,
                       text=True, cwd=nm.parent, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "1_0_ExecJson", r.stderr


def test_saf_summary_counts_match_the_arf(example, tmp_path):
    nm = node_tools()
    arf, _, out = example
    r = subprocess.run([str(nm / ".bin" / "saf"), "view", "summary", "-i", str(out / "hdf.json"),
                        "-f", "json", "--no-print-pretty"], capture_output=True, text=True,
                       cwd=tmp_path, timeout=180)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    entry = summary[0] if isinstance(summary, list) else summary
    counts = {k: entry[k]["total"] for k in ("passed", "failed", "skipped")}
    results = [res for res, _ in _arf_results(arf).values()]
    assert counts == {"passed": results.count("pass"), "failed": results.count("fail"),
                      "skipped": len(results) - results.count("pass") - results.count("fail")}
