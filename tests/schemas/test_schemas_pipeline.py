"""What `stigscap run --example` writes (data stream, system characteristics, ARF) is valid,
and the ARF checks engage on the project's own ARF layout."""

from __future__ import annotations

import re

import pytest

from stigscap.schemas.validate import check_file


@pytest.fixture(scope="module")
def run_outputs(tmp_path_factory):
    from click.testing import CliRunner

    from stigscap.evaluator.cli.main import main

    out = tmp_path_factory.mktemp("run") / "out"
    res = CliRunner().invoke(main, ["run", "--example", "--output", str(out)], catch_exceptions=False)
    # 2 = findings; 1 when some rule results are "error" (the example has such rules)
    assert res.exit_code in (0, 1, 2), res.output
    files = sorted(out.glob("*.xml"))
    assert any(f.name.endswith("-arf.xml") for f in files), files
    return files


# SCAPVal's SHOULD-level findings on `run --example` (tests/schemas/test_scapval_parity.py
# compares them with SCAPVal's own Schematron): Exchange settings have no CCE (idents, OVAL
# references), the DS names its platform as a CPE URI; offline there is no MAC address and the
# system characteristics do not name the asset.
RUN_WARNINGS = {"sds": {"SRC-251-1", "SRC-207-1", "xccdf-1.2:benchmark_platform_prefix_deprecated"},
                "arf": {"RES-299-1", "RES-306-1"}, "oval-system-characteristics": set()}


def test_run_outputs_validate(schema_dir, run_outputs):
    kinds = set()
    for f in run_outputs:
        result = check_file(f)
        kind = result.kind.split("@")[0]
        kinds.add(kind)
        assert result.errors == [], (f.name, [str(p) for p in result.errors[:5]])
        assert {p.rule for p in result.problems} == RUN_WARNINGS[kind], f.name
    assert {"sds", "arf"} <= kinds


def _arf(run_outputs):
    return next(f for f in run_outputs if f.name.endswith("-arf.xml")).read_text(encoding="utf-8")


def test_run_arf_broken_check_ref(schema_dir, run_outputs, tmp_path):
    text = _arf(run_outputs)
    m = re.search(r'(<check-content-ref name="[^"]+" href=")#(oval\d+)"', text)
    assert m
    p = tmp_path / "arf.xml"
    p.write_text(text.replace(m.group(0), f'{m.group(1)}#nowhere"', 1), encoding="utf-8")
    errs = check_file(p).errors
    # the reference itself (RES-370-1/2), and what follows from it: no definition result to
    # derive the rule result from (RES-126-1)
    assert {e.rule for e in errs} == {"RES-370-1", "RES-370-2", "RES-126-1"}
    ref = next(e for e in errs if e.rule == "RES-370-1")
    assert ref.line == text[:m.start()].count("\n") + 1 and "'#nowhere'" in ref.message


def test_run_arf_broken_rule_result(schema_dir, run_outputs, tmp_path):
    text = _arf(run_outputs)
    assert "<result>fail</result>" in text
    p = tmp_path / "arf.xml"
    p.write_text(text.replace("<result>fail</result>", "<result>failed</result>", 1), encoding="utf-8")
    errs = check_file(p).errors
    # the XSD, and SCAPVal's Table 23 check (no mapping gives 'failed')
    assert errs and {e.rule for e in errs} == {"XSD xccdf@1.2", "RES-126-1"}
    assert errs[0].rule == "XSD xccdf@1.2" and "TestResult" in errs[0].path
