"""STIG_INFO filename (issue 15 item 8): without --stig, a checklist names the DISA manual
XCCDF the way STIG Viewer records it when that file is imported (U_<STIG>_V<v>R<r>_Manual-
xccdf.xml), for every built-in benchmark and for `generate --stig`; the names are checked
against DISA's own files in ../shared when it is there."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from tests.cli_helpers import stigscap
from tests.conftest import SHARED

TS = "2026-12-01T00:00:00Z"
# DISA's file names (the files themselves are in ../shared/samples)
DISA_NAMES = {
    "exchange2013_edge": "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R5_Manual-xccdf.xml",
    "exchange2016_edge": "U_MS_Exchange_2016_Edge_Transport_Server_STIG_V2R6_Manual-xccdf.xml",
    "exchange2016_mailbox": "U_MS_Exchange_2016_Mailbox_Server_STIG_V2R6_Manual-xccdf.xml",
    "exchange2019_edge": "U_MS_Exchange_2019_Edge_Server_STIG_V2R2_Manual-xccdf.xml",
}


def _ckl_filename(ckl: bytes) -> str:
    root = etree.fromstring(ckl)
    for si in root.iter("SI_DATA"):
        if si.findtext("SID_NAME") == "filename":
            return si.findtext("SID_DATA") or ""
    raise AssertionError("no filename in STIG_INFO")


@pytest.mark.parametrize("benchmark", sorted(DISA_NAMES))
def test_generated_content_names_the_disa_file(benchmark, tmp_path):
    ds = tmp_path / "ds.xml"
    assert stigscap("generate", "--benchmark", benchmark, "-o", ds, "--timestamp", TS).rc == 0
    texts = {pt.get("id"): pt.text for pt in etree.parse(str(ds)).getroot().iter(
        "{http://checklists.nist.gov/xccdf/1.2}plain-text")}
    assert texts["disa-manual-xccdf"] == DISA_NAMES[benchmark]
    where = SHARED / "samples" / ("" if benchmark == "exchange2013_edge" else "exchange-family")
    if where.is_dir():
        assert (where / DISA_NAMES[benchmark]).is_file(), "not DISA's file name"


def test_checklists_without_stig_name_the_disa_file(tmp_path):
    out = tmp_path / "run"
    assert stigscap("run", "--example", "-o", out, "--timestamp", TS).rc == 2
    ckl = next(out.glob("*.ckl")).read_bytes()
    assert _ckl_filename(ckl) == DISA_NAMES["exchange2013_edge"]
    cklb = json.loads(next(out.glob("*.cklb")).read_text(encoding="utf-8"))
    assert cklb["stigs"][0]["stig_name"]
    arf = next(out.glob("*-arf.xml"))
    assert stigscap("export", "ckl", arf, "-o", tmp_path / "x.ckl").rc == 0
    assert _ckl_filename((tmp_path / "x.ckl").read_bytes()) == DISA_NAMES["exchange2013_edge"]


def test_generate_from_a_disa_file_names_that_release(tmp_path):
    stig = SHARED / "samples" / "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R6_Manual-xccdf.xml"
    if not stig.is_file():
        pytest.skip(f"reference file not available: {stig}")
    ds = tmp_path / "ds.xml"
    assert stigscap("generate", "--stig", stig, "-o", ds, "--timestamp", TS).rc == 0
    texts = {pt.get("id"): pt.text for pt in etree.parse(str(ds)).getroot().iter(
        "{http://checklists.nist.gov/xccdf/1.2}plain-text")}
    assert texts["disa-manual-xccdf"] == stig.name
    # named from the STIG's facts, not from the file name: a renamed copy generates the same
    copy = tmp_path / "renamed.xml"
    copy.write_bytes(stig.read_bytes())
    again = tmp_path / "again.xml"
    assert stigscap("generate", "--stig", copy, "-o", again, "--timestamp", TS).rc == 0
    assert again.read_bytes() == ds.read_bytes()
