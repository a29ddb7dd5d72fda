"""Get-ExchangeServer decides the platform (product version and role): data that is missing or
contradictory makes the platform `error` — every rule `error`, exit 1 — never `pass` or
`notapplicable` (exports → `stigscap collect --from` → `stigscap eval`, the 2013 Edge
benchmark alone)."""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import pytest
from lxml import etree

from stigscap.evaluator.collect.model import CmdletQuery, FieldValue
from stigscap.evaluator.collect.records import server_role_problems
from tests.cli_helpers import stigscap
from tests.conftest import REPO

TS = "2026-01-01T00:00:00"
XCCDF = {"x": "http://checklists.nist.gov/xccdf/1.2"}
EXPORT = REPO / "content" / "examples" / "edge2013" / "Get-ExchangeServer.xml"


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("role") / "ds.xml"
    assert stigscap("generate", "-o", out, "--timestamp", TS).rc == 0
    return out


def _exports(tmp_path: Path, server_xml: str | None) -> Path:
    d = tmp_path / "exports"
    shutil.copytree(REPO / "content" / "examples" / "edge2013", d)
    if server_xml is not None:
        (d / "Get-ExchangeServer.xml").write_bytes(codecs.BOM_UTF16_LE +
                                                   server_xml.encode("utf-16-le"))
    return d


def _example_server_xml() -> str:
    data = EXPORT.read_bytes()   # the example's encoding: UTF-8 or UTF-16, each with a BOM
    return data.decode("utf-8-sig") if data.startswith(codecs.BOM_UTF8) else data.decode("utf-16")


def _eval(ds: Path, exports: Path, tmp_path: Path):
    sc = tmp_path / "sc.xml"
    stigscap("collect", "-d", ds, "--from", exports, "-o", sc)
    arf = tmp_path / "arf.xml"
    r = stigscap("eval", ds, "--profile", "MAC-1_Classified", "--system-characteristics", sc,
                 "--results-arf", arf, "--timestamp", TS)
    results = {rr.findtext("x:result", namespaces=XCCDF)
               for rr in etree.parse(str(arf)).iterfind(".//x:rule-result", XCCDF)}
    return r, results, " ".join(etree.parse(str(sc)).getroot().itertext())


def test_the_example_still_decides_its_platform(ds, tmp_path):
    r, results, _sc = _eval(ds, _exports(tmp_path, None), tmp_path)
    assert r.rc == 2 and "error" not in results and "notapplicable" not in results


def test_is_edge_server_contradicting_server_role_is_an_error(ds, tmp_path):
    text = _example_server_xml()
    assert '<B N="IsEdgeServer">true</B>' in text
    bad = text.replace('<B N="IsEdgeServer">true</B>', '<B N="IsEdgeServer">false</B>')
    r, results, sc = _eval(ds, _exports(tmp_path, bad), tmp_path)
    assert r.rc == 1
    assert results == {"error"}          # never notapplicable, never compared
    assert "property IsEdgeServer: IsEdgeServer is False but ServerRole is 'Edge'" in sc


def test_is_mailbox_server_contradicting_server_role_is_an_error(ds, tmp_path):
    bad = _example_server_xml().replace('<B N="IsMailboxServer">false</B>',
                                        '<B N="IsMailboxServer">true</B>')
    r, results, _sc = _eval(ds, _exports(tmp_path, bad), tmp_path)
    assert r.rc == 1 and results == {"error"}


def test_empty_get_exchange_server_is_an_error_not_notapplicable(ds, tmp_path):
    text = _example_server_xml()
    empty = text[:text.index("<Obj ", text.index("<Objs"))] + "</Objs>"
    r, results, sc = _eval(ds, _exports(tmp_path, empty), tmp_path)
    assert r.rc == 1
    assert results == {"error"}
    assert "lists at least the server itself" in sc


@pytest.mark.parametrize("fields, problem", [
    ({"serverrole": "Edge", "isedgeserver": "true", "ismailboxserver": "false"}, None),
    ({"serverrole": "Mailbox, ClientAccess", "isedgeserver": "false",
      "ismailboxserver": "true"}, None),
    ({"serverrole": "Mailbox", "isedgeserver": "true"}, "IsEdgeServer"),
    ({"serverrole": "Edge", "ismailboxserver": "true"}, "IsMailboxServer"),
    ({"serverrole": "Edge"}, None),                       # flags not collected: nothing to check
    ({"isedgeserver": "false"}, None),                   # no role: the OVAL check decides
])
def test_server_role_problems(fields, problem):
    got = server_role_problems([FieldValue(k, v) for k, v in fields.items()])
    assert [p for p, _ in got] == ([problem] if problem else [])


def test_a_query_with_parameters_may_return_nothing():
    """Only the unparameterised Get-ExchangeServer (the server list) is never empty."""
    from stigscap.evaluator.collect.records import RecordCollector
    q = CmdletQuery("oval:x:obj:1", None, "Get", "ExchangeServer",
                    parameters=(("Identity", "NOPE"),))
    assert RecordCollector(q, "x").result().flag == "does not exist"
    q = CmdletQuery("oval:x:obj:1", None, "Get", "ExchangeServer")
    assert RecordCollector(q, "x").result().flag == "error"
