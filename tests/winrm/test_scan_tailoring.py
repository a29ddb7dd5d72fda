"""`stigscap scan --tailoring FILE`: every host is judged with the tailored profile."""

from __future__ import annotations

import json

from click.testing import CliRunner

from stigscap.evaluator.cli.main import main
from tests.cli_helpers import stigscap
from tests.winrm.conftest import PASSWORD, USER
from tests.winrm.fleet_psobjects import ExampleHost
from tests.winrm.test_fleet_scan import TS, full_ds, rule_results  # noqa: F401 (fixture)


def test_scan_takes_the_tailoring(make_server, full_ds, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("STIGSCAP_USERNAME", USER)
    monkeypatch.setenv("STIGSCAP_PASSWORD", PASSWORD)
    t = tmp_path / "t.xml"
    assert stigscap("tailor", full_ds, "--profile", "MAC-1_Classified", "--unselect",
                    "EX13-EG-000005", "-o", t, "--timestamp", TS).rc == 0
    srv = make_server(hosts=[ExampleHost(overrides={})])
    inv = tmp_path / "hosts.yaml"
    inv.write_text(json.dumps({"defaults": {"transport": "http", "auth": "ntlm", "retries": 0},
                               "hosts": [{"host": "127.0.0.1", "port": srv.ports[0],
                                          "name": "edge-0"}]}))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["scan", str(full_ds), "--profile", "MAC-1_Classified_tailored",
                                  "--tailoring", str(t), "--inventory", str(inv), "--output",
                                  str(out), "--timestamp", TS, "--no-prompt", "--processes", "1",
                                  "-q"])
    assert r.exit_code == 2, r.output
    assert rule_results(out / "edge-0.arf.xml")["SV-84405r1_rule"] == "notselected"
