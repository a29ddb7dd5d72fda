"""`stigscap scan --sign-key/--sign-cert --ckl --cklb`: every host's ARF is signed (and verifies),
its checklists agree with it, and the key's password never lands in any output."""

from __future__ import annotations

import json

from click.testing import CliRunner
from tests.winrm.fleet_psobjects import ExampleHost
from lxml import etree

from stigscap.evaluator.cli.main import main
from tests.pki import make_identity
from tests.winrm.conftest import PASSWORD, USER
from tests.winrm.test_fleet_scan import PROFILE, TS, full_ds, rule_results  # noqa: F401 (fixture)

KEY_PASSWORD = "k3y-Pa55-for-the-test"
TO_CKL = {"pass": "NotAFinding", "fail": "Open", "notapplicable": "Not_Applicable"}


def test_scan_signs_arfs_and_writes_matching_checklists(make_server, full_ds, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("STIGSCAP_USERNAME", USER)
    monkeypatch.setenv("STIGSCAP_PASSWORD", PASSWORD)
    monkeypatch.setenv("STIGSCAP_KEY_PASSWORD", KEY_PASSWORD)
    ident = make_identity(tmp_path, "fleet-assessor", kind="ec", password=KEY_PASSWORD)
    key, cert = ident.key_pem, ident.cert_pem
    assert b"ENCRYPTED" in key.read_bytes()  # the password really is needed
    srv = make_server(hosts=[ExampleHost(overrides={}), ExampleHost(overrides={})])
    inv = tmp_path / "hosts.yaml"
    inv.write_text(json.dumps({"defaults": {"transport": "http", "auth": "ntlm", "retries": 0},
                               "hosts": [{"host": "127.0.0.1", "port": p, "name": f"edge-{i}"}
                                         for i, p in enumerate(srv.ports)]}))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["scan", str(full_ds), "--profile", PROFILE, "--inventory", str(inv),
                                  "--output", str(out), "--timestamp", TS, "--no-prompt", "--concurrency",
                                  "2", "--processes", "1", "-q", "--write", "ckl", "--write", "cklb",
                                  "--sign-key", str(key), "--sign-cert", str(cert)])
    assert r.exit_code == 2, r.output  # the example's own findings
    summary = {h["name"]: h for h in json.loads((out / "summary.json").read_text())["hosts"]}
    assert set(summary) == {"edge-0", "edge-1"}
    for host in summary.values():
        files = {k: out / v for k, v in host["files"].items()}
        assert set(files) >= {"arf", "ckl", "cklb", "syschar"}
        v = CliRunner().invoke(main, ["verify", str(files["arf"]), "--trusted-cert", str(cert)])
        assert v.exit_code == 0, v.output
        results = rule_results(files["arf"])
        vulns = etree.parse(str(files["ckl"])).getroot().iter("VULN")
        ckl = {next(sd.findtext("ATTRIBUTE_DATA") for sd in v.iter("STIG_DATA")
                    if sd.findtext("VULN_ATTRIBUTE") == "Rule_ID"): v.findtext("STATUS") for v in vulns}
        assert ckl == {rid: TO_CKL.get(res, "Not_Reviewed") for rid, res in results.items()}
        cklb = json.loads(files["cklb"].read_text())["stigs"][0]["rules"]
        assert len(cklb) == len(results) == 63
        for f in out.iterdir():
            assert KEY_PASSWORD.encode() not in f.read_bytes(), f
            assert PASSWORD.encode() not in f.read_bytes(), f
