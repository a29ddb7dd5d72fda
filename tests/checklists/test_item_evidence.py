"""Checklist and HDF evidence for items that are not cmdlet records (a registry value, a
directory's trustee): each collected item is one object, the failing one is marked failed and
named, the others pass. (Before: a registry item read as the record {value: 3} alone, which
no instance named, so the failing IMAP4 Start value showed as a passed object in HDF.)"""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import stigscap
from tests.examples.stig_examples import DIR_FULL, DIR_READ

TS = "2026-01-01T00:00:00Z"
IMAP = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeIMAP4\\Start"


def _run(tmp_path, *args) -> dict[str, list[dict]]:
    r = stigscap("run", *args, "-o", tmp_path, "--timestamp", TS)
    assert r.rc == 2, r.err
    hdf = json.loads(next(tmp_path.glob("*.hdf.json")).read_text())
    ckl = next(tmp_path.glob("*.ckl")).read_text()
    return {c["tags"]["stig_id"]: c["results"] for c in hdf["profiles"][0]["controls"]}, ckl


def test_registry_value_evidence(tmp_path):
    controls, ckl = _run(tmp_path, "--example", "mailbox2016")
    (imap,) = controls["EX16-MB-000180"]
    assert imap["status"] == "failed" and "value=3" in imap["code_desc"]
    assert IMAP in imap["message"] and "expected to equal 4" in imap["message"]
    (pop,) = controls["EX16-MB-000190"]
    assert pop["status"] == "passed" and "MSExchangePOP3" in pop["code_desc"]
    assert "[FAIL] hive=HKEY_LOCAL_MACHINE; key=SYSTEM\\CurrentControlSet\\Services\\MSExchangeIMAP4" in ckl


@pytest.mark.parametrize("stig,rule", [("edge2019", "EX19-ED-000195")])
def test_trustee_evidence(tmp_path, stig, rule):
    controls, ckl = _run(tmp_path, "--example", stig,
                         "--set-value", f"exchange_directory_full_trustees={DIR_FULL}",
                         "--set-value", f"exchange_directory_read_trustees={DIR_READ}")
    results = controls[rule]
    failed = [r for r in results if r["status"] == "failed"]
    assert len(results) == 8 and len(failed) == 1
    assert "trustee_sid=S-1-5-11" in failed[0]["code_desc"] and "S-1-5-11" in failed[0]["message"]
    assert all(r["status"] == "passed" for r in results if r is not failed[0])
    assert ckl.count("[FAIL] filepath=") == 1 and ckl.count("[ok] filepath=") == 7
