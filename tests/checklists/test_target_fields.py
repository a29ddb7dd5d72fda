"""HOST_IP / HOST_MAC / FQDN in checklists for offline runs: the addresses the exports give
(the Receive connectors' bindings), the FQDN of Get-ExchangeServer, and MACs from
--target-mac, which offline exports cannot carry (issue 15 item 8)."""

from __future__ import annotations

import json

from lxml import etree

from tests.cli_helpers import assert_one_line_error, stigscap

TS = "2026-12-01T00:00:00Z"


def test_offline_run_fills_ip_mac_and_fqdn(tmp_path):
    out = tmp_path / "run"
    assert stigscap("run", "--example", "--output", out, "--timestamp", TS, "--target-mac",
                    "00-15-5d-01-02-03", "--target-mac", "00:15:5D:01:02:04").rc == 2
    ckl = etree.parse(str(next(out.glob("*.ckl")))).getroot()
    asset = ckl.find("ASSET")
    assert asset.findtext("HOST_MAC") == "00:15:5D:01:02:03, 00:15:5D:01:02:04"
    assert asset.findtext("HOST_FQDN") == "edge01.perimeter.example.mil"
    sc = etree.parse(str(next(out.glob("*-sc.xml")))).getroot()
    # the IPs are the ones collection found (the Receive connectors' bindings), not typed in
    bound = sorted(e.text for e in sc.iter("{*}ip_address"))
    assert bound
    assert sorted(asset.findtext("HOST_IP").split(", ")) == bound
    cklb = json.loads(next(out.glob("*.cklb")).read_text())
    assert cklb["target_data"]["mac_address"] == "00:15:5D:01:02:03, 00:15:5D:01:02:04"
    arf = next(out.glob("*-arf.xml")).read_text()
    assert arf.count("urn:xccdf:fact:asset:identifier:mac") == 2


def test_bad_mac_is_a_one_line_error(tmp_path):
    assert_one_line_error(stigscap("run", "--example", "--output", tmp_path / "o", "--target-mac",
                                   "not-a-mac"), "--target-mac", "not-a-mac")
    assert not (tmp_path / "o").exists()
