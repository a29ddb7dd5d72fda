"""File and directory permissions (OVAL fileeffectiverights53_object) from Get-Acl: offline
exports in the shape Windows PowerShell 5.1 writes (tests/collect/acl_shapes.py) and live over
the loopback WSMan/PSRP server with the unmodified pypsrp client; the items, the outcomes that
must never read as a pass, and the verdicts of the directory-permissions rule."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner
from lxml import etree

from stigscap.evaluator.cli.main import main
from stigscap.evaluator.collect.model import CmdletQuery
from stigscap.evaluator.oval.objects import read_cmdlet_objects
from tests.collect.collect_fixtures import collect_queries
from tests.cli_helpers import stigscap
from tests.collect.acl_shapes import EXCHANGE_DIR, EXCHANGE_INSTALL, LOG_DIR, TRANSPORT_LOGS, \
    get_acl_clixml
from tests.examples.example_server import copy_exports
from tests.examples.stig_examples import DIR_FULL, DIR_READ

TS = "2026-01-01T00:00:00Z"
NS = {"x": "http://checklists.nist.gov/xccdf/1.2"}
AU_MODIFY = ("(A;OICI;0x1301bf;;;AU)", "NT AUTHORITY\\Authenticated Users", "Allow",
             "Modify, Synchronize")
SITE = ["--set-value", f"exchange_directory_full_trustees={DIR_FULL}",
        "--set-value", f"exchange_directory_read_trustees={DIR_READ}"]


def query(path: str, trustee: str = ".*", op: str = "pattern match", n: int = 1,
          filename: str = "") -> CmdletQuery:
    full = f"{path}\\{filename}" if filename else path
    return CmdletQuery(f"oval:t:obj:{n}", None, "Get", "Acl", (("LiteralPath", full),),
                       kind="fileeffectiverights",
                       target=(path, filename, "file" if filename else "directory", op, trustee))


def offline(tmp_path, queries, acls=(EXCHANGE_INSTALL, TRANSPORT_LOGS)):
    (tmp_path / "Get-Acl.xml").write_bytes(get_acl_clixml(tuple(acls)))
    return collect_queries(tmp_path, queries)


def rights(obj) -> dict[str, set[str]]:
    """trustee SID → the rights that are true."""
    out = {}
    for item in obj.items:
        ents = {e.name: e.value for e in item.entities}
        out[ents["trustee_sid"]] = {k for k, v in ents.items() if v == "true"}
    return out


def test_each_trustee_of_the_directory_is_an_item_with_its_effective_rights(tmp_path):
    d, logs, users = offline(tmp_path, [query(EXCHANGE_DIR, n=1), query(LOG_DIR, n=2),
                                        query(LOG_DIR, "S-1-5-32-545", "equals", 3)])
    assert [d.flag, logs.flag, users.flag] == ["complete"] * 3
    got = rights(d)
    assert set(got) == {"S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
                        "S-1-5-18", "S-1-5-32-544", "S-1-5-32-545", "S-1-3-0", "S-1-15-2-1",
                        "S-1-15-2-2"}
    assert "generic_all" in got["S-1-5-32-544"] and "file_write_data" not in got["S-1-5-32-545"]
    assert got["S-1-3-0"] == set()   # CREATOR OWNER: inherit-only ACEs give nothing here
    # the log directory denies Users write (D;OICI;0x116) before any allow: read, no write
    assert rights(users)["S-1-5-32-545"] >= {"file_read_data", "generic_read"}
    assert not rights(users)["S-1-5-32-545"] & {"file_write_data", "file_append_data"}
    item = {e.name: e for e in d.items[0].entities}
    assert item["filename"].value is None and item["path"].value == EXCHANGE_DIR
    assert item["trustee_name"].value == "NT SERVICE\\TrustedInstaller"


def test_outcomes_that_must_not_read_as_a_clean_directory(tmp_path):
    null_dacl = dataclasses.replace(EXCHANGE_INSTALL, dacl_flags="NO_ACCESS_CONTROL", aces=())
    alias = dataclasses.replace(TRANSPORT_LOGS, aces=TRANSPORT_LOGS.aces + (
        ("(A;OICI;FA;;;DA)", "PERIMETER\\Domain Admins", "Allow", "FullControl"),))
    got = offline(tmp_path, [query(EXCHANGE_DIR, n=1), query(LOG_DIR, n=2),
                             query("C:\\Elsewhere", n=3), query(EXCHANGE_DIR, "^S-1-9-", n=4)],
                  acls=(null_dacl, alias))
    # a NULL DACL gives everyone every right: Everyone's item, never "no trustee"
    assert got[0].flag == "complete" and "generic_all" in rights(got[0])["S-1-1-0"]
    # a domain-relative alias (DA) whose SID the SDDL does not carry: the rights of a trustee
    # a pattern selects cannot be known, so nothing of the object is compared
    assert got[1].flag == "error" and "DA" in got[1].messages[0]
    # a path the export does not hold: not collected (an export cannot say it is missing)
    assert got[2].flag == "not collected" and "holds no object for C:\\Elsewhere" in got[2].messages[-1]
    assert got[3].flag == "does not exist"


def test_contradictory_get_acl_objects_are_errors(tmp_path):
    other = dataclasses.replace(EXCHANGE_INSTALL, aces=EXCHANGE_INSTALL.aces + (AU_MODIFY,))
    (d,) = offline(tmp_path, [query(EXCHANGE_DIR)], acls=(EXCHANGE_INSTALL, other))
    assert d.flag == "error" and "different security descriptors" in d.messages[0]
    wrong_owner = dataclasses.replace(EXCHANGE_INSTALL, owner_name="NT AUTHORITY\\SYSTEM")
    (d,) = offline(tmp_path, [query(EXCHANGE_DIR)], acls=(wrong_owner,))
    assert d.flag == "error" and "property Owner" in d.messages[0]


@pytest.fixture
def edge2019(tmp_path):
    return copy_exports("edge2019", tmp_path / "exports")


def _result(tmp_path, folder, *extra) -> tuple[str, list[str]]:
    out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
    r = stigscap("run", "--from", folder, "--benchmark", "exchange2019_edge", "-o", out,
                 "--timestamp", TS, *extra)
    assert r.rc in (1, 2), r.err
    arf = etree.parse(str(next(out.glob("*-arf.xml"))))
    rr = next(x for x in arf.iterfind(".//x:rule-result", NS)
              if x.get("version") == "EX19-ED-000195")
    return rr.findtext("x:result", namespaces=NS), [i.text for i in rr.findall("x:instance", NS)]


def test_directory_rule_names_the_trustee_with_unauthorized_access(tmp_path, edge2019):
    # untailored: the EDSP's lists are the site's to give
    assert _result(tmp_path, edge2019)[0] == "notchecked"
    # the example's ACL has Authenticated Users with Modify: that trustee alone is the finding
    assert _result(tmp_path, edge2019, *SITE) == ("fail", ["S-1-5-11"])
    # the default ACL passes; read-only extra trustees are findings only when the EDSP does not
    # list them
    (edge2019 / "Get-Acl.xml").write_bytes(get_acl_clixml((EXCHANGE_INSTALL,)))
    assert _result(tmp_path, edge2019, *SITE) == ("pass", [])
    strict = ["--set-value", f"exchange_directory_full_trustees={DIR_FULL}",
              "--set-value", "exchange_directory_read_trustees=^S-1-5-32-545$"]
    result, instances = _result(tmp_path, edge2019, *strict)
    assert result == "fail" and set(instances) == {"S-1-15-2-1", "S-1-15-2-2"}
    # a server whose export lacks the directory is never a pass
    (edge2019 / "Get-Acl.xml").write_bytes(get_acl_clixml((TRANSPORT_LOGS,)))
    assert _result(tmp_path, edge2019, *SITE)[0] not in ("pass", "notapplicable")


def test_generated_test_uses_or_of_states(tmp_path):
    ds = tmp_path / "ds.xml"
    r = CliRunner().invoke(main, ["generate", "--benchmark", "exchange2019_edge", "--rule",
                                  "EX19-ED-000195", "-o", str(ds), "--timestamp", TS])
    assert r.exit_code == 0, r.output
    W = "{http://oval.mitre.org/XMLSchema/oval-definitions-5#windows}"
    root = etree.parse(str(ds))
    (test,) = root.iter(f"{W}fileeffectiverights53_test")
    assert test.get("state_operator") == "OR" and len(test.findall(f"{W}state")) == 3
    (obj,) = root.iter(f"{W}fileeffectiverights53_object")
    assert obj.find(f"{W}trustee_sid").get("operation") == "pattern match"
    assert obj.find(f"{W}filename").get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"


def test_only_local_paths_are_ever_asked_for():
    """A UNC path would make the Exchange server authenticate to another host (its SMB
    client), a device or stream path open something other than a file: never sent."""
    W = "http://oval.mitre.org/XMLSchema/oval-definitions-5#windows"
    objs = "".join(
        f'<w:fileeffectiverights53_object id="oval:t:obj:{n}" version="1"><w:path>{p}</w:path>'
        f'<w:filename xsi:nil="true"/><w:trustee_sid operation="pattern match">.*'
        f'</w:trustee_sid></w:fileeffectiverights53_object>'
        for n, p in enumerate(["\\\\attacker\\share", "\\\\?\\C:\\x", "C:\\x:stream",
                               "C:\\Program Files\\Microsoft\\Exchange Server\\V15"], 1))
    doc = etree.fromstring(f'<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/'
                           f'oval-definitions-5" xmlns:w="{W}" xmlns:xsi="http://www.w3.org/'
                           f'2001/XMLSchema-instance"><objects>{objs}</objects>'
                           '</oval_definitions>'.encode())
    got = read_cmdlet_objects(doc)
    assert [q.object_id for q in got.queries] == ["oval:t:obj:4"]
    assert got.queries[0].parameters == (("LiteralPath", EXCHANGE_DIR),)
    assert all("is not a local path" in why for _, why in got.unsupported)
    assert len(got.unsupported) == 3


@pytest.mark.parametrize("spec,problem", [
    ({"path": "C:\\x", "trustee_sid": "("}, "is not a regular expression"),
    ({"path": "C:\\x", "trustee_sid": "BA", "trustee_operation": "equals"}, "is not a SID"),
    ({"path": "\\\\host\\share", "trustee_sid": ".*"}, "String should match pattern"),
    ({"path": "C:\\x:stream", "trustee_sid": ".*"}, "String should match pattern"),
])
def test_content_names_only_local_paths_and_valid_trustees(spec, problem):
    from pydantic import ValidationError

    from stigscap.content.model import FileRightsObject
    with pytest.raises(ValidationError, match=problem):
        FileRightsObject(**spec)
