"""`run --timestamp` and `eval --report --timestamp` write the same bytes on every run: the
HTML report's "generated" line carries the run's time, not the wall clock (issue 15 item 10)."""

from __future__ import annotations

import time

from tests.cli_helpers import stigscap

TS = "2026-11-28T04:00:00Z"


def test_run_with_timestamp_is_byte_identical(tmp_path):
    outs = []
    for n in (1, 2):
        out = tmp_path / f"run{n}"
        assert stigscap("run", "--example", "--output", out, "--timestamp", TS).rc == 2
        outs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
        time.sleep(1.1)            # a wall-clock second apart
    assert outs[0] == outs[1]
    html = next(v for k, v in outs[0].items() if k.endswith(".html")).decode()
    assert "generated 2026-11-28T04:00:00" in html


def test_eval_report_with_timestamp_is_byte_identical(tmp_path):
    ds, sc = tmp_path / "ds.xml", tmp_path / "sc.xml"
    assert stigscap("generate", "-o", ds).rc == 0
    assert stigscap("collect", "-d", ds, "--example", "-o", sc, "--timestamp", TS).rc == 0
    reports = []
    for n in (1, 2):
        report = tmp_path / f"r{n}.html"
        assert stigscap("eval", ds, "--system-characteristics", sc, "--profile",
                        "MAC-1_Classified", "--report", report, "--timestamp", TS, "-q").rc == 2
        reports.append(report.read_bytes())
        time.sleep(1.1)
    assert reports[0] == reports[1]
    assert b"generated 2026-11-28T04:00:00" in reports[0]
