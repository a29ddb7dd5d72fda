"""What `stigscap generate` writes is valid: XSD, references and the SCAP 1.3 checks, and the
only warnings on the data stream are SCAPVal's SHOULDs it cannot meet (no CCE exists for these
Exchange settings; the platform is a CPE URI); the components alone have none."""

from __future__ import annotations

import json


def test_generated_datastream_and_components_validate(cli, schema_dir, tmp_path):
    ds, comps = tmp_path / "ds.xml", tmp_path / "components"
    res = cli("generate", "-o", ds, "--components", comps, "--timestamp", "2024-01-01T00:00:00")
    assert res.exit_code == 0, res.output
    files = [ds, *sorted(comps.iterdir())]
    assert len(files) >= 5
    res = cli("validate", "--format", "json", *files)
    assert res.exit_code == 0, res.stdout
    report = json.loads(res.stdout)
    kinds = {f["kind"].split("@")[0] for f in report["files"]}
    assert {"sds", "xccdf", "oval-definitions", "cpe-dictionary"} <= kinds
    for f in report["files"]:
        assert f["valid"] and f["errors"] == 0, f
        rules = {p["rule"] for p in f["problems"]}
        if f["kind"].startswith("sds@"):
            assert rules == {"SRC-251-1", "SRC-207-1",
                             "xccdf-1.2:benchmark_platform_prefix_deprecated"}, f
        else:
            assert rules == set(), f


def test_generated_datastream_broken_reference_is_caught(cli, schema_dir, tmp_path):
    ds = tmp_path / "ds.xml"
    assert cli("generate", "-o", ds, "--timestamp", "2024-01-01T00:00:00").exit_code == 0
    text = ds.read_text(encoding="utf-8")
    assert 'name="oval:mil.disa.stig:def:69931"' in text
    ds.write_text(text.replace('name="oval:mil.disa.stig:def:69931"',
                               'name="oval:mil.disa.stig:def:69932"'), encoding="utf-8")
    res = cli("validate", ds)
    assert res.exit_code == 2
    assert "[SRC-346-1]" in res.stdout
