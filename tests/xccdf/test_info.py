"""`stigscap info FILE`: what a data stream, an ARF and a signed stream hold, from the
documents stigscap writes (counts checked against the content, not typed in)."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from stigscap.content.loader import load_content
from stigscap.schemas.namespaces import XCCDF12
from tests.cli_helpers import assert_one_line_error, stigscap
from tests.pki import make_identity


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("info")
    assert stigscap("run", "--example", "--output", out, "--timestamp",
                    "2026-12-01T00:00:00Z").rc == 2
    return out


def test_data_stream_summary_matches_the_content(run_dir):
    content = load_content()
    automated = sum(1 for r in content.rules if r.automated)
    ds = next(run_dir.glob("*-ds.xml"))
    doc = json.loads(stigscap("info", ds, "--format", "json").out)
    assert doc["kind"] == "Source Data Stream" and doc["scap_version"] == "1.3"
    (bench,) = doc["benchmarks"]
    assert bench["rules"] == len(content.rules)
    assert (bench["automated"], bench["manual"]) == (automated, len(content.rules) - automated)
    root = etree.parse(str(ds)).getroot()
    assert len(bench["profiles"]) == len(root.findall(f".//{{{XCCDF12}}}Profile"))
    auth = next(v for v in bench["values"] if v["id"].endswith("receive_connector_authmechanism"))
    assert auth["default"] == "^Tls$" and set(auth["selectors"]) == {"exact", "includes"}
    assert doc["signatures"] == []
    text = stigscap("info", ds)
    assert text.rc == 0 and f"Rules: {len(content.rules)} ({automated} automated" in text.out


def test_arf_summary_counts_every_rule_result(run_dir):
    arf = next(run_dir.glob("*-arf.xml"))
    doc = json.loads(stigscap("info", arf, "--format", "json").out)
    (tr,) = doc["test_results"]
    root = etree.parse(str(arf)).getroot()
    results = [r.text for r in root.iter(f"{{{XCCDF12}}}result")]
    assert sum(tr["results"].values()) == len(results)
    assert tr["results"]["fail"] == results.count("fail") > 0
    assert tr["target"] == root.find(f".//{{{XCCDF12}}}target").text


def test_signatures_are_listed(run_dir, tmp_path):
    ident = make_identity(tmp_path, "info")
    ds = next(run_dir.glob("*-ds.xml"))
    signed = tmp_path / "signed.xml"
    assert stigscap("sign", ds, "--sign-key", ident.key_pem, "--sign-cert", ident.cert_pem,
                    "-o", signed).rc == 0
    doc = json.loads(stigscap("info", signed, "--format", "json").out)
    assert len(doc["signatures"]) == len(doc["datastreams"]) == 1
    assert "data-stream-collection" in doc["signatures"][0]


def test_other_documents_are_a_one_line_error(run_dir):
    sc = next(run_dir.glob("*-sc.xml"))
    assert_one_line_error(stigscap("info", sc), "oval_system_characteristics")
