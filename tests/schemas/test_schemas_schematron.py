"""--schematron: the official SDS 1.3 schematron (openscap-common's compiled XSLT) via lxml."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from stigscap.schemas.validate import check_file

FIXTURES = Path(__file__).with_name("fixtures")
SSG = Path("/usr/share/xml/scap/ssg/content")


def test_fixture_passes_schematron(schema_dir):
    result = check_file(FIXTURES / "mini-ds.xml", schematron=True)
    assert result.errors == []
    # the schematron's SHOULD-level findings come back as warnings with their ids
    assert {"SRC-251-1", "SRC-207-1"} <= {p.rule for p in result.problems}


def test_schematron_error_is_located(cli, schema_dir, tmp_path):
    text = (FIXTURES / "mini-ds.xml").read_text()
    old = "<xccdf:description>Mission assurance category I, classified.</xccdf:description>"
    p = tmp_path / "ds.xml"
    p.write_text(text.replace(old, ""))
    res = cli("validate", "--schematron", "--format", "json", p)
    assert res.exit_code == 2
    probs = json.loads(res.stdout)["files"][0]["problems"]
    official = [x for x in probs if x["rule"] == "SRC-10-1" and "official" in x["message"]]
    assert len(official) == 1
    anchor = '<xccdf:Profile id="xccdf_mil.disa.stig_profile_MAC-1_Classified">'
    assert official[0]["line"] == p.read_text()[:p.read_text().index(anchor)].count("\n") + 1
    assert official[0]["path"].endswith("xccdf:Benchmark/xccdf:Profile")
    # our own SRC-10-1 check finds the same element
    ours = [x for x in probs if x["rule"] == "SRC-10-1" and x is not official[0]]
    assert ours and ours[0]["line"] == official[0]["line"]


@pytest.mark.parametrize("name", ["ssg-firefox-ds.xml", "ssg-debian11-ds.xml"])
def test_ssg_passes_schematron(schema_dir, name):
    f = SSG / name
    if not f.exists():
        pytest.skip(f"{f} not installed")
    assert check_file(f, schematron=True).errors == []


def test_changed_schematron_is_refused(cli, schema_dir, tmp_path):
    from stigscap.schemas import catalog

    d = tmp_path / "schemas"
    for rel in [*catalog.load_catalog().entry("sds@1.3").closure, "sds/1.3/source-data-stream-1.3.xsl"]:
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(schema_dir / rel, d / rel)
    xsl = d / "sds/1.3/source-data-stream-1.3.xsl"
    xsl.write_text(xsl.read_text().replace("SRC-10-1", "SRC-10-9"))
    res = cli("validate", "--schema-dir", d, FIXTURES / "mini-ds.xml")
    assert res.exit_code == 0  # not needed without --schematron
    res = cli("validate", "--schematron", "--schema-dir", d, FIXTURES / "mini-ds.xml")
    assert res.exit_code == 1 and str(xsl) in res.stderr and "differs" in res.stderr
