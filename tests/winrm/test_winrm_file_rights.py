"""Files and their permissions collected live: Get-Acl and Get-Item -LiteralPath over the
loopback WSMan/PSRP server (the unmodified pypsrp client), the same items as the offline
exports."""

from __future__ import annotations

import datetime as dt

from psrpcore.types import PSDateTime

from stigscap.evaluator.collect.winrm import collect_host
from tests.collect.acl_shapes import EXCHANGE_DIR, EXCHANGE_INSTALL, LOG_DIR, TRANSPORT_LOGS
from tests.collect.test_file_item_collect import BIN, EXE
from tests.collect.test_file_item_collect import collect as collect_items
from tests.collect.test_file_item_collect import query as item_query
from tests.collect.test_file_rights_collect import offline, query
from tests.winrm.test_winrm_collect import CREDS, opts, sent_commands
from tests.winrm.winrm_testserver import ExchangeHost, _obj


def test_live_get_acl_matches_the_export_and_sends_one_literal_path(make_server, tmp_path):
    host = ExchangeHost(acls={EXCHANGE_DIR: EXCHANGE_INSTALL, LOG_DIR: TRANSPORT_LOGS})
    srv = make_server(hosts=[host])
    qs = [query(EXCHANGE_DIR, n=1), query(LOG_DIR, "S-1-5-32-545", "equals", 2),
          query("C:\\Program Files\\Nope", n=3)]
    live = collect_host("127.0.0.1", qs, opts(srv), CREDS)
    assert live.ok, live.errors
    off = offline(tmp_path, qs)
    for a, b in zip(live.objects[:2], off[:2]):
        assert a.flag == b.flag == "complete" and a.items == b.items
    # a missing path is PowerShell's PathNotFound: nothing there to have permissions
    assert live.objects[2].flag == "does not exist"
    assert "PathNotFound" in live.objects[2].messages[-1]
    reads = [c for c in sent_commands(srv) if c["name"] == "Get-Acl"]
    assert [c["parameters"] for c in reads] == [[("LiteralPath", EXCHANGE_DIR)],
                                                [("LiteralPath", LOG_DIR)],
                                                [("LiteralPath", "C:\\Program Files\\Nope")]]
    assert all(not c["is_script"] for c in sent_commands(srv))


def test_the_exchange_endpoint_cannot_read_permissions_and_says_so(make_server):
    srv = make_server(hosts=[ExchangeHost(acls={EXCHANGE_DIR: EXCHANGE_INSTALL})],
                      exchange_endpoint=True)
    (obj,) = collect_host("127.0.0.1", [query(EXCHANGE_DIR)], opts(srv, endpoint="exchange"),
                          CREDS).objects
    assert obj.flag == "error" and not obj.items and "--endpoint wsman" in obj.messages[0]


def test_live_get_item_gives_the_same_item(make_server, tmp_path):
    info = _obj(["System.Diagnostics.FileVersionInfo", "System.Object"], "File: …", adapted={
        "CompanyName": "Microsoft Corporation", "FileVersion": "15.02.1544.004",
        "InternalName": "ExSetup", "Language": "Language Neutral",
        "OriginalFilename": "ExSetup.exe", "ProductName": "Microsoft® Exchange",
        "ProductVersion": "15.02.1544.004"})
    attrs = _obj(["System.IO.FileAttributes", "System.Enum", "System.ValueType",
                  "System.Object"], "ReadOnly, Archive")
    when = PSDateTime.fromisoformat("2024-05-06T07:08:09+00:00")
    item = _obj(["System.IO.FileInfo", "System.IO.FileSystemInfo", "System.MarshalByRefObject",
                 "System.Object"], f"{BIN}\\{EXE}",
                adapted={"Name": EXE, "Length": 35392, "FullName": f"{BIN}\\{EXE}",
                         "CreationTimeUtc": PSDateTime(2024, 3, 4, 5, 6, 7, 123456,
                                                       tzinfo=dt.timezone.utc, nanosecond=700),
                         "LastAccessTimeUtc": when, "LastWriteTimeUtc": when,
                         "Attributes": attrs},
                extended={"PSPath": f"Microsoft.PowerShell.Core\\FileSystem::{BIN}\\{EXE}",
                          "PSIsContainer": False, "VersionInfo": info})
    srv = make_server(hosts=[ExchangeHost(items={f"{BIN}\\{EXE}": item})])
    live = collect_host("127.0.0.1", [item_query(), item_query("nope.dll", 2)], opts(srv), CREDS)
    assert live.ok, live.errors
    (off,) = collect_items(tmp_path, [item_query()])
    assert live.objects[0].items == off.items
    assert live.objects[1].flag == "does not exist"   # PathNotFound
    assert [c["parameters"] for c in sent_commands(srv) if c["name"] == "Get-Item"] == [
        [("LiteralPath", f"{BIN}\\{EXE}")], [("LiteralPath", f"{BIN}\\nope.dll")]]
