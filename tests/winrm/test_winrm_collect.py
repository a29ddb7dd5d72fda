"""The live collector against the loopback WSMan/PSRP server, driven by the unmodified pypsrp client."""

from __future__ import annotations

import socket

import psrpcore
import pytest
from tests.winrm.conftest import PASSWORD, USER
from tests.winrm.winrm_testserver import SNAPIN_2010, SNAPIN_2013, Connector, ExchangeHost

from stigscap.evaluator.collect.winrm import WinRMOptions, choose_snapin, collect_host
from stigscap.evaluator.collect.model import CmdletQuery
from stigscap.evaluator.collect.credentials import Credentials, Secret
from stigscap.schemas.errors import StigscapError

RC = CmdletQuery("oval:mil.disa.stig:obj:6993101", SNAPIN_2013, "Get", "ReceiveConnector", (),
                 ("Name", "Identity", "AuthMechanism"))
SRV = CmdletQuery("oval:mil.disa.stig:obj:101", SNAPIN_2013, "Get", "ExchangeServer", (),
                  ("Name", "ServerRole", "AdminDisplayVersion"))
CREDS = Credentials(USER, Secret(PASSWORD))


def opts(srv, **kw) -> WinRMOptions:
    base = dict(transport="http", auth="ntlm", port=srv.port, retries=0, connection_timeout=2,
                operation_timeout=2, command_timeout=10)
    base.update(kw)
    return WinRMOptions(**base)


def sent_commands(srv) -> list[dict]:
    return [c for rc in srv.received for c in rc.commands]


def test_ntlm_with_message_encryption_collects_exchange_objects(make_server):
    srv = make_server(hosts=[ExchangeHost(connectors=[Connector("Default EDGE01", 0), Connector("Internal", 1 | 16)])])
    r = collect_host("127.0.0.1", [RC, SRV], opts(srv), CREDS)
    assert r.ok, r.errors
    rc, ex = r.objects
    assert rc.flag == "complete" and len(rc.records) == 2
    assert [(f.name, f.value) for f in rc.records[0]] == [
        ("name", "Default EDGE01"), ("identity", "EDGE01\\Default EDGE01"), ("authmechanism", "None")]
    assert rc.records[1][2].value == "Tls, ExchangeServer"
    assert [(f.name, f.value) for f in ex.records[0]] == [
        ("name", "EDGE01"), ("serverrole", "Edge"), ("admindisplayversion", "Version 15.0 (Build 1497.2)")]
    assert r.system_info.os_version == "6.3.9600" and r.system_info.fqdn == "EDGE01.perimeter.example"
    assert r.system_info.interfaces == (("Microsoft Hyper-V Network Adapter", "192.0.2.10", "00:15:5D:01:02:03"),)
    # the commands, exactly: probe, snap-in, cmdlet | Select-Object; never a script
    names = [c["name"] for c in sent_commands(srv)]
    assert names[0] == "Get-PSSnapin" and "Add-PSSnapin" in names
    assert all(not c["is_script"] for c in sent_commands(srv))
    add = next(c for c in sent_commands(srv) if c["name"] == "Add-PSSnapin")
    assert add["parameters"] == [("Name", SNAPIN_2013)]
    get = [rc.commands for rc in srv.received if rc.commands[0]["name"] == "Get-ReceiveConnector"][0]
    assert get[1] == {"name": "Select-Object", "is_script": False,
                      "parameters": [("Property", ["Name", "Identity", "AuthMechanism"])]}
    # the wire, as scan_bench counts it: shell open, probe, snap-in, 2 queries (request + receive
    # each) and delete are 11 WSMan operations; NTLM adds 3 HTTP legs before the first
    assert (srv.round_trips, srv.exchanges) == (11, 14)


@pytest.mark.parametrize("transport,auth", [("http", "ntlm"), ("http", "negotiate"), ("https", "ntlm")])
def test_messages_are_sealed_and_the_password_never_crosses_the_wire(make_server, transport, auth):
    srv = make_server(tls=transport == "https")
    srv.capture = True
    r = collect_host("127.0.0.1", [RC], opts(srv, transport=transport, auth=auth, ca_bundle=srv.ca_file), CREDS)
    assert r.ok, r.errors
    if transport == "http":
        assert srv.sealed_bodies > 0 and srv.plain_bodies == 0  # WinRM message encryption
    wire = b"".join(h.encode() + b for h, b in srv.wire)
    assert PASSWORD.encode() not in wire and PASSWORD.encode("utf-16-le") not in wire


def test_exchange_2010_snapin_name_is_probed(make_server):
    srv = make_server(hosts=[ExchangeHost(registered_snapins=(SNAPIN_2010,))])
    r = collect_host("127.0.0.1", [RC], opts(srv), CREDS)
    assert r.ok, r.errors
    add = next(c for c in sent_commands(srv) if c["name"] == "Add-PSSnapin")
    assert add["parameters"] == [("Name", SNAPIN_2010)]
    assert choose_snapin(SNAPIN_2013, ["Other", SNAPIN_2010]) == SNAPIN_2010
    assert choose_snapin(SNAPIN_2013, ["Other"]) is None


def test_https_basic_with_ca_bundle(make_server):
    srv = make_server(tls=True)
    r = collect_host("127.0.0.1", [RC], opts(srv, transport="https", auth="basic", ca_bundle=srv.ca_file), CREDS)
    assert r.ok, r.errors
    assert len(r.objects[0].records) == 2


def test_exchange_management_endpoint_needs_no_snapin(make_server):
    srv = make_server(exchange_endpoint=True)
    r = collect_host("127.0.0.1", [RC], opts(srv, endpoint="exchange"), CREDS)
    assert r.ok, r.errors
    assert srv.shell_opens == [("/PowerShell", "http://schemas.microsoft.com/powershell/Microsoft.Exchange")]
    assert {c["name"] for c in sent_commands(srv)} == {"Get-ReceiveConnector", "Select-Object"}


def test_basic_over_http_is_refused_before_connecting():
    with pytest.raises(StigscapError, match="clear text"):
        collect_host("127.0.0.1", [RC], WinRMOptions(transport="http", auth="basic", port=1), CREDS)


# --------------------------------------------------------------------------- faults
def _only_error(r, kind):
    assert [e.kind for e in r.errors] == [kind], r.errors
    assert all(o.flag == "error" and o.messages for o in r.objects)
    return r.errors[0].message


def test_fault_401_is_auth_failed(make_server):
    srv = make_server()
    srv.faults.http_401 = True
    _only_error(collect_host("127.0.0.1", [RC, SRV], opts(srv), CREDS), "auth_failed")


def test_wrong_password_is_auth_failed(make_server):
    srv = make_server()
    r = collect_host("127.0.0.1", [RC], opts(srv), Credentials(USER, Secret("wrong-pass-123")))
    _only_error(r, "auth_failed")


def test_fault_access_denied(make_server):
    srv = make_server()
    srv.faults.access_denied = True
    assert "Access is denied" in _only_error(collect_host("127.0.0.1", [RC], opts(srv), CREDS), "access_denied")


def test_fault_snapin_missing(make_server):
    srv = make_server()
    srv.faults.snapin_missing = True
    r = collect_host("127.0.0.1", [RC, SRV], opts(srv), CREDS)
    assert {e.kind for e in r.errors} == {"snapin_missing"}
    assert all(o.flag == "error" and "snap-in" in o.messages[0] for o in r.objects)
    assert "Get-ReceiveConnector" not in {c["name"] for c in sent_commands(srv)}


def test_fault_cmdlet_not_found_only_hits_that_object(make_server):
    srv = make_server()
    srv.faults.cmdlet_not_found = ("get-receiveconnector",)
    r = collect_host("127.0.0.1", [RC, SRV], opts(srv), CREDS)
    assert [e.kind for e in r.errors] == ["cmdlet_not_found"]
    assert r.objects[0].flag == "error" and "not recognized" in r.objects[0].messages[0]
    assert r.objects[1].flag == "complete"


def test_fault_slow_reply_is_timeout(make_server):
    srv = make_server()
    srv.faults.slow_reply = 1.5
    r = collect_host("127.0.0.1", [RC], opts(srv, read_timeout=0.5), CREDS)
    _only_error(r, "timeout")


def test_fault_pipeline_never_finishes_is_timeout(make_server):
    srv = make_server()
    srv.faults.pipeline_hangs = True
    r = collect_host("127.0.0.1", [RC], opts(srv, operation_timeout=1, command_timeout=1.5), CREDS)
    assert "did not finish" in _only_error(r, "timeout")


def test_fault_dropped_connection_is_retried_then_reported(make_server):
    srv = make_server()
    srv.faults.drop_on = "command"
    slept = []
    r = collect_host("127.0.0.1", [RC], opts(srv, retries=2, backoff=0.01), CREDS, sleep=slept.append)
    _only_error(r, "connection_dropped")
    assert r.attempts == 3 and slept == [0.01, 0.02]


def test_fault_server_500(make_server):
    srv = make_server()
    srv.faults.server_500_on = "create"
    _only_error(collect_host("127.0.0.1", [RC], opts(srv), CREDS), "server_error")


def test_transient_fault_recovers_on_retry(make_server):
    srv = make_server()
    srv.faults.server_500_on = "create"
    calls = []

    def heal(seconds):
        calls.append(seconds)
        srv.faults.server_500_on = None

    r = collect_host("127.0.0.1", [RC], opts(srv, retries=1, backoff=0.01), CREDS, sleep=heal)
    assert r.ok and r.attempts == 2 and calls == [0.01]


def test_connection_refused():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    r = collect_host("127.0.0.1", [RC], WinRMOptions(transport="http", auth="ntlm", port=port, retries=0), CREDS)
    _only_error(r, "connection_refused")


def test_tls_verify_failed_without_ca_bundle(make_server):
    srv = make_server(tls=True)
    r = collect_host("127.0.0.1", [RC], opts(srv, transport="https", auth="basic"), CREDS)
    _only_error(r, "tls_verify_failed")
    assert srv.received == []


def test_insecure_skip_verify_is_explicit(make_server):
    srv = make_server(tls=True)
    r = collect_host("127.0.0.1", [RC], opts(srv, transport="https", auth="basic", insecure_skip_verify=True), CREDS)
    assert r.ok


# --------------------------------------------------------------------------- safety
def test_non_read_only_verb_is_never_sent(make_server):
    srv = make_server()
    bad = CmdletQuery("oval:x:obj:2", SNAPIN_2013, "Set", "ReceiveConnector", (("AuthMechanism", "None"),), ("Name",))
    bad2 = CmdletQuery("oval:x:obj:3", None, "Remove", "Item", (("Path", "C:\\"),), ("Name",))
    r = collect_host("127.0.0.1", [bad, RC, bad2], opts(srv), CREDS)
    assert r.objects[0].flag == "error" and "verb 'Set' is not allowed" in r.objects[0].messages[0]
    assert r.objects[2].flag == "error"
    assert r.objects[1].flag == "complete"
    names = {c["name"].lower() for c in sent_commands(srv)}
    assert not {"set-receiveconnector", "remove-item"} & names
    assert [e.kind for e in r.errors] == ["unsafe_command", "unsafe_command"]


def test_injection_in_parameter_value_stays_a_literal(make_server):
    srv = make_server()
    evil = "x'; Remove-Item C:\\ -Recurse; '"
    q = CmdletQuery("oval:x:obj:4", SNAPIN_2013, "Get", "ReceiveConnector", (("Identity", evil),), ("Name",))
    r = collect_host("127.0.0.1", [q], opts(srv), CREDS)
    call = next(rc.commands for rc in srv.received if rc.commands[0]["name"] == "Get-ReceiveConnector")
    assert call[0] == {"name": "Get-ReceiveConnector", "is_script": False, "parameters": [("Identity", evil)]}
    assert all(not c["is_script"] for c in sent_commands(srv))
    assert all("remove-item" != c["name"].lower() for c in sent_commands(srv))
    assert r.objects[0].flag == "error"  # no such connector: the server said so


@pytest.mark.parametrize("field", ["noun", "param", "select", "module"])
def test_names_that_are_not_plain_identifiers_are_refused(make_server, field):
    srv = make_server()
    q = dict(object_id="oval:x:obj:5", module_name=SNAPIN_2013, verb="Get", noun="ReceiveConnector",
             parameters=(), select=("Name",))
    bad = {"noun": {"noun": "ReceiveConnector; Remove-Item"},
           "param": {"parameters": (("Identity -Confirm:$false", "x"),)},
           "select": {"select": ("@{n='x';e={Remove-Item C:\\}}",)},
           "module": {"module_name": "Evil'; iex"}}[field]
    q.update(bad)
    r = collect_host("127.0.0.1", [CmdletQuery(**q)], opts(srv), CREDS)
    assert r.objects[0].flag == "error" and r.errors[0].kind == "unsafe_command"
    assert srv.received == []


def test_password_never_in_results_or_messages(make_server):
    srv = make_server()
    srv.faults.http_401 = True
    r1 = collect_host("127.0.0.1", [RC], opts(srv), CREDS)
    srv.faults.http_401 = False
    srv.faults.cmdlet_not_found = ("get-receiveconnector",)
    r2 = collect_host("127.0.0.1", [RC], opts(srv), CREDS)
    text = repr(r1) + repr(r2) + repr(CREDS) + f"{CREDS.password}"
    assert PASSWORD not in text
    assert "********" in repr(CREDS)


def test_psrpcore_private_api_canary():
    """The test server fails pipelines through psrpcore private API; fail loudly if it moves."""
    assert psrpcore.__version__ == "0.3.1" if hasattr(psrpcore, "__version__") else True
    assert callable(getattr(psrpcore.ServerPipeline, "_change_state", None))
    from psrpcore.types._serializer import _serialize_enum_to_string  # noqa: F401


@pytest.mark.parametrize("memo", [False, True])
def test_reused_messages_still_carry_each_pipelines_own_commands(make_server, memo):
    """The collector serializes a message once per content (pool opening, each distinct
    pipeline) and the test server can decode it once (memo_messages, for benchmarks): host after
    host, queries that differ only in a parameter value, its type or the selected fields must each
    reach the server as themselves and get their own answer."""
    srv = make_server(hosts=[ExchangeHost(connectors=[Connector("Default EDGE01", 0),
                                                      Connector("Internal", 1)])],
                      memo_messages=memo)
    asks = [(("Identity", "Default EDGE01"),), (("Identity", "Internal"),), (("Server", "EDGE01"),),
            (("Server", "EDGE02"),), (("Identity", "Internal"), ("Server", "EDGE01"))]
    selects = [("Name", "AuthMechanism"), ("Name", "Identity"), ("Name",)]
    for i, params in enumerate(asks * 2):
        select = selects[i % len(selects)]
        before = len(srv.received)
        q = CmdletQuery("oval:x:obj:7", SNAPIN_2013, "Get", "ReceiveConnector", params, select)
        r = collect_host("127.0.0.1", [q], opts(srv), CREDS)
        call = next(rc.commands for rc in srv.received[before:]
                    if rc.commands[0]["name"] == "Get-ReceiveConnector")
        assert call == [{"name": "Get-ReceiveConnector", "is_script": False, "parameters": list(params)},
                        {"name": "Select-Object", "is_script": False, "parameters": [("Property", list(select))]}]
        p = dict(params)
        want = [] if p.get("Server") == "EDGE02" else \
            [p["Identity"]] if "Identity" in p else ["Default EDGE01", "Internal"]
        assert [rec[0].value for rec in r.objects[0].records] == want
        assert all([f.name for f in rec] == [s.lower() for s in select] for rec in r.objects[0].records)


def test_ntlm_gets_the_hash_pair_once_kept_secret(make_server):
    """For NTLM, pypsrp gets the LM:NT pair (pyspnego's own functions) instead of deriving it
    again per host; the pair authenticates like the password, never crosses the wire and is
    redacted like the password."""
    from stigscap.evaluator.collect.pypsrp_compat import password_for as _password_for
    from stigscap.evaluator.collect.credentials import redact

    pair = _password_for("ntlm", CREDS)
    assert pair != PASSWORD and len(pair) == 65 and pair == _password_for("ntlm", CREDS)
    assert _password_for("basic", CREDS) == PASSWORD == _password_for("negotiate", CREDS)
    assert redact(f"oops {pair}") == "oops ********"
    srv = make_server()
    srv.capture = True
    assert collect_host("127.0.0.1", [RC], opts(srv), CREDS).ok
    wire = b"".join(h.encode() + b for h, b in srv.wire)
    assert pair.encode() not in wire and pair.upper().encode() not in wire
    wrong = Credentials(USER, Secret("Wr0ng-Horse!x7Q"))
    r = collect_host("127.0.0.1", [RC], opts(srv), wrong)
    assert not r.ok and r.errors[0].kind == "auth_failed"


def test_credssp_delegates_and_seals(make_server):
    """CredSSP (requests-credssp on pyspnego): TLS inside HTTP, NTLM inside TLS, the password
    delegated to the server, every message sealed with the TLS channel; responses over 16 KiB
    come in several sealed parts (a host with many connectors)."""
    many = [Connector(f"Connector {i:03d} with a long name to fill the record", 1) for i in range(120)]
    srv = make_server(auth=("credssp",), hosts=[ExchangeHost(connectors=many)])
    srv.capture = True
    r = collect_host("127.0.0.1", [RC, SRV], opts(srv, auth="credssp"), CREDS)
    assert r.ok, r.errors
    assert len(r.objects[0].records) == 120 and r.objects[1].records[0][1].value == "Edge"
    assert srv.delegated == [USER]
    assert srv.sealed_bodies > 0 and srv.plain_bodies == 0 and srv.multi_part_replies > 0
    wire = b"".join(h.encode() + b for h, b in srv.wire)
    assert b"HTTP-CredSSP-session-encrypted" in wire
    assert PASSWORD.encode() not in wire and PASSWORD.encode("utf-16-le") not in wire


def test_credssp_wrong_password_is_auth_failed(make_server):
    srv = make_server(auth=("credssp",))
    r = collect_host("127.0.0.1", [RC], opts(srv, auth="credssp"),
                     Credentials(USER, Secret("Wr0ng-Horse!x7Q")))
    assert not r.ok and r.errors[0].kind == "auth_failed", r.errors
    assert srv.delegated == [] and srv.round_trips == 0


def test_certificate_auth_maps_the_client_certificate(make_server, tmp_path):
    """WinRM certificate authentication (HTTPS only): the TLS client certificate, issued by a CA
    the host trusts and mapped to a user; one the host does not map is refused (auth_failed), and
    one from another CA never gets past TLS. No password is needed or sent."""
    from tests.pki import make_identity

    ca = make_identity(tmp_path, "client-ca", ca=True)
    auditor = make_identity(tmp_path, "auditor", issuer=ca)
    stranger = make_identity(tmp_path, "stranger", issuer=ca)
    rogue = make_identity(tmp_path, "rogue")                      # self-signed, other CA
    srv = make_server(tls=True, auth=("certificate",), client_ca=str(ca.cert_pem),
                      cert_users={"stigscap test auditor": USER})
    srv.capture = True

    def run(ident):
        return collect_host("127.0.0.1", [RC], opts(srv, transport="https", auth="certificate",
                                                     ca_bundle=srv.ca_file,
                                                     certificate_pem=str(ident.cert_pem),
                                                     certificate_key_pem=str(ident.key_pem)),
                            Credentials(None, None))

    r = run(auditor)
    assert r.ok, r.errors
    assert {rc.user for rc in srv.received} == {USER} and srv.round_trips == 9
    assert all("mutual" in h and "Basic" not in h for h, _ in srv.wire)
    before = srv.round_trips
    r = run(stranger)
    assert not r.ok and r.errors[0].kind == "auth_failed", r.errors
    r = run(rogue)
    assert not r.ok and r.errors[0].kind in ("tls_error", "connection_dropped", "connection_failed"), r.errors
    assert srv.round_trips == before


_PRELOAD_PROBE = r"""
import json, sys
from stigscap.evaluator.collect.winrm import WinRMOptions, collect_host, preload
from stigscap.evaluator.collect.model import CmdletQuery
from stigscap.evaluator.collect.credentials import Credentials, Secret
import stigscap.evaluator.fleet.scan
if sys.argv[3] == "preload":
    preload()
before = set(sys.modules)
q = CmdletQuery("oval:x:obj:1", sys.argv[4], "Get", "ReceiveConnector", (), ("Name", "AuthMechanism"))
c = collect_host("127.0.0.1", [q], WinRMOptions(transport="http", auth="ntlm", port=int(sys.argv[1]),
                 retries=0), Credentials(sys.argv[2], Secret(sys.stdin.read())))
print(json.dumps({"status": [o.status for o in c.objects], "errors": [str(e) for e in c.errors],
                  "new": sorted(set(sys.modules) - before)}))
"""


@pytest.mark.parametrize("preload", [True, False])
def test_preload_imports_what_a_session_would(make_server, preload):
    """`run_fleet` calls preload() before it forks its workers: afterwards a whole session
    (NTLM, message encryption, PSRP) imports no further module of pypsrp, requests, urllib3,
    pyspnego, cryptography, psrpcore or stigscap. Without it, the session imports them
    (the control: the probe can see a missing module)."""
    import json
    import subprocess
    import sys

    srv = make_server()
    r = subprocess.run([sys.executable, "-c", _PRELOAD_PROBE, str(srv.port), USER,
                        "preload" if preload else "none", SNAPIN_2013],
                       input=PASSWORD, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["status"] == ["exists"] and got["errors"] == []
    libraries = ("pypsrp", "requests", "urllib3", "spnego", "cryptography", "psrpcore", "stigscap")
    late = [m for m in got["new"] if m.split(".")[0] in libraries]
    if preload:
        assert late == []
    else:
        assert "pypsrp.powershell" in late and "spnego._ntlm" in late
