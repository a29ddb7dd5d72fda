"""File and directory permissions collected live: Get-Acl -LiteralPath over the loopback
WSMan/PSRP server (the unmodified pypsrp client), the same items as the offline export."""

from __future__ import annotations

from stigscap.evaluator.collect.winrm import collect_host
from tests.collect.acl_shapes import EXCHANGE_DIR, EXCHANGE_INSTALL, LOG_DIR, TRANSPORT_LOGS
from tests.collect.test_file_rights_collect import offline, query
from tests.winrm.test_winrm_collect import CREDS, opts, sent_commands
from tests.winrm.winrm_testserver import ExchangeHost


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
