"""Contradictory or unmappable export data is an `error`, never a compared value (issue 11,
items 4 and 5), end to end: exports → `stigscap collect --from` → `stigscap eval`.

- JSON objects with a key written twice, or two keys that differ only in case;
- CLIXML enums whose <ToString> disagrees with the number, CLIXML objects with a property twice;
- Windows PowerShell 5.1 `ConvertTo-Json` enums written as numbers: mapped to the names the
  STIG compares (so a compliant server passes), and a number no table covers is an error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from stigscap.content.loader import load_content
from stigscap.evaluator.collect import exchange_enums as ee
from stigscap.evaluator.cli.main import main
from stigscap.evaluator.collect.offline import example_exports_dir, read_export
from stigscap.evaluator.collect.normalize import normalize_value, properties
from tests.collect.collect_fixtures import clixml_text, write_clixml
from tests.conftest import REPO

STAMP = "2026-01-01T00:00:00Z"
XCCDF = {"x": "http://checklists.nist.gov/xccdf/1.2"}
# rules whose check compares an enum property (one per mapped enum) + the seed rule
RULES = {"EX13-EG-000340": "AuthMechanism", "EX13-EG-000245": "PermissionGroups",
         "EX13-EG-000080": "ServerRole", "EX13-EG-000335": "TlsAuthLevel",
         "EX13-EG-000165": "Action", "EX13-EG-000215": "SpoofedDomainAction",
         "EX13-EG-000030": "EventLevel"}
SEED = "EX13-EG-000340"
CONNECTOR = "Default internal receive connector EDGE01"


def rule_id(stig_id: str) -> str:
    return f"xccdf_mil.disa.stig_rule_{load_content().rule(stig_id).rule_id}"


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "ds.xml"
    args = ["generate", "--content", str(REPO / "content"), "-o", str(out), "--timestamp",
            "2026-01-01T00:00:00"]
    for r in RULES:
        args += ["--rule", r]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    return out


def ps51_json_exports() -> dict[str, list[dict]]:
    """What `<cmdlet> | Select ... | ConvertTo-Json` writes in Windows PowerShell 5.1 on a
    compliant Edge server: every enum as its number."""
    return {
        "Get-ExchangeServer": [{"Name": "EDGE01", "Fqdn": "edge01.example.mil", "Identity": "EDGE01",
                                "ServerRole": 64, "AdminDisplayVersion": "Version 15.0 (Build 1497.2)"}],
        "Get-ReceiveConnector": [{"Name": CONNECTOR, "Identity": f"EDGE01\\{CONNECTOR}",
                                  "AuthMechanism": 1, "PermissionGroups": 4}],
        "Get-SendConnector": [{"Name": "Internet", "Identity": "Internet", "TlsAuthLevel": 4}],
        "Get-SenderFilterConfig": [{"Name": "SenderFilterConfig", "Action": 1}],
        "Get-SenderIdConfig": [{"Name": "SenderIdConfig", "Identity": "SenderIdConfig",
                                "SpoofedDomainAction": 1}],
        "Get-EventLogLevel": [{"Identity": "MSExchangeTransport\\SmtpReceive", "EventLevel": 0},
                              {"Identity": "MSExchangeTransport\\SmtpSend", "EventLevel": 0}],
    }


def write_exports(d: Path, exports: dict[str, list[dict] | str]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for cmdlet, data in exports.items():
        text = data if isinstance(data, str) else json.dumps(data, indent=4)
        (d / f"{cmdlet}.json").write_text(text, encoding="utf-8")
    return d


def collect_and_eval(ds: Path, exports: Path, tmp_path: Path):
    """(collect exit code, results by STIG id, system-characteristics messages)."""
    sc, arf = tmp_path / "sc.xml", tmp_path / "arf.xml"
    c = CliRunner().invoke(main, ["collect", "-d", str(ds), "--from", str(exports), "-o", str(sc),
                                  "--timestamp", STAMP])
    assert c.exit_code in (0, 1), c.output
    # EX13-EG-000245's internal connectors are organization-defined (issue 14): this site's
    # connector is internal, so PermissionGroups is compared
    e = CliRunner().invoke(main, ["eval", str(ds), "--profile", "MAC-1_Classified", "--system-characteristics",
                                  str(sc), "--results-arf", str(arf), "--timestamp", STAMP, "-q",
                                  "--set-value", "receive_connector_internal_names=.*"])
    assert e.exit_code in (0, 1, 2), e.output
    root = etree.parse(str(arf))
    results = {s: root.xpath("//x:rule-result[@idref=$r]/x:result/text()", r=rule_id(s), namespaces=XCCDF)
               for s in RULES}
    messages = [m.text or "" for m in etree.parse(str(sc)).iter("{*}message")]
    return c.exit_code, {s: (v[0] if v else None) for s, v in results.items()}, messages


# --------------------------------------------------------------------------- numeric enums
def test_ps51_numeric_enums_are_mapped_and_a_compliant_server_passes(ds, tmp_path):
    d = write_exports(tmp_path / "exports", ps51_json_exports())
    code, results, _ = collect_and_eval(ds, d, tmp_path)
    assert code == 0
    assert results == {s: "pass" for s in RULES}


@pytest.mark.parametrize("cmdlet, prop, number, rule", [
    ("Get-ReceiveConnector", "AuthMechanism", 64, SEED),           # no AuthMechanisms bit 64
    ("Get-ReceiveConnector", "PermissionGroups", 65, "EX13-EG-000245"),
    ("Get-ExchangeServer", "ServerRole", 8, "EX13-EG-000080"),     # bit 8 is no ServerRole member
    ("Get-SendConnector", "TlsAuthLevel", 3, "EX13-EG-000335"),    # not [Flags]: 3 is no member
    ("Get-SenderFilterConfig", "Action", 2, "EX13-EG-000165"),
    ("Get-SenderIdConfig", "SpoofedDomainAction", 3, "EX13-EG-000215"),
    ("Get-EventLogLevel", "EventLevel", 2, "EX13-EG-000030"),
    ("Get-EventLogLevel", "EventLevel", -1, "EX13-EG-000030"),
])
def test_an_unmapped_enum_number_is_an_error_naming_file_object_property_value(ds, tmp_path, cmdlet, prop,
                                                                               number, rule):
    exports = ps51_json_exports()
    exports[cmdlet][0][prop] = number
    d = write_exports(tmp_path / "exports", exports)
    code, results, messages = collect_and_eval(ds, d, tmp_path)
    assert code == 1
    assert results[rule] == "error"
    label = exports[cmdlet][0].get("Identity") or exports[cmdlet][0]["Name"]
    assert any(f"{cmdlet}.json" in m and f"'{label}'" in m and f"property {prop}" in m and str(number) in m
               for m in messages), messages


def test_a_number_written_as_text_is_mapped_or_refused(ds, tmp_path):
    exports = ps51_json_exports()
    exports["Get-EventLogLevel"][0]["EventLevel"] = "0"
    exports["Get-SendConnector"][0]["TlsAuthLevel"] = "3"
    d = write_exports(tmp_path / "exports", exports)
    _, results, _ = collect_and_eval(ds, d, tmp_path)
    assert results["EX13-EG-000030"] == "pass" and results["EX13-EG-000335"] == "error"


# --------------------------------------------------------------------------- contradictory JSON
def _receive_connector_json(auth_members: str) -> str:
    return ('[{"Name": "%s", "Identity": "EDGE01\\\\%s", %s, "PermissionGroups": 4}]'
            % (CONNECTOR, CONNECTOR, auth_members))


@pytest.mark.parametrize("members", [
    '"AuthMechanism": "BasicAuth", "AuthMechanism": "Tls"',      # the last one would pass
    '"AuthMechanism": 4, "authmechanism": 1',                    # keys differing only in case
    '"authMechanism": "Tls", "AuthMechanism": "Tls"',            # even when they agree
])
def test_duplicated_json_keys_make_the_seed_rule_an_error(ds, tmp_path, members):
    exports = ps51_json_exports()
    exports["Get-ReceiveConnector"] = _receive_connector_json(members)
    d = write_exports(tmp_path / "exports", exports)
    code, results, messages = collect_and_eval(ds, d, tmp_path)
    assert code == 1
    assert results[SEED] == "error"
    assert any("Get-ReceiveConnector.json" in m and f"'EDGE01\\{CONNECTOR}'" in m
               and "property" in m and "AuthMechanism".lower() in m.lower() for m in messages), messages
    # the rest of the data is still judged
    assert results["EX13-EG-000030"] == "pass"


def test_a_duplicated_key_in_an_unselected_property_does_not_matter(ds, tmp_path):
    exports = ps51_json_exports()
    exports["Get-ReceiveConnector"] = _receive_connector_json(
        '"AuthMechanism": 1, "Comment": "a", "Comment": "b"')
    d = write_exports(tmp_path / "exports", exports)
    _, results, _ = collect_and_eval(ds, d, tmp_path)
    assert results[SEED] == "pass"


def test_a_duplicated_key_nested_in_a_selected_property_is_an_error(ds, tmp_path):
    exports = ps51_json_exports()
    exports["Get-ReceiveConnector"] = (
        '[{"Name": "%s", "Identity": {"DistinguishedName": "CN=x", "Name": "a", "name": "b"}, '
        '"AuthMechanism": 1, "PermissionGroups": 4}]' % CONNECTOR)
    d = write_exports(tmp_path / "exports", exports)
    _, results, messages = collect_and_eval(ds, d, tmp_path)
    assert results[SEED] == "error"
    assert any("property Identity" in m and "inside its value" in m for m in messages), messages


# --------------------------------------------------------------------------- contradictory CLIXML
def _clixml_dir(tmp_path: Path, text: str) -> Path:
    exports = ps51_json_exports()
    del exports["Get-ReceiveConnector"]
    d = write_exports(tmp_path / "exports", exports)
    write_clixml(d / "Get-ReceiveConnector.xml", text)
    return d


def test_clixml_enum_whose_tostring_disagrees_with_its_number_is_an_error(ds, tmp_path):
    # PermissionGroups is missing from this export: the seed rule alone decides
    text = clixml_text([(CONNECTOR, "Tls")], auth_ints={"Tls": 4})
    assert "<ToString>Tls</ToString>" in text and "<I32>4</I32>" in text
    code, results, messages = collect_and_eval(ds, _clixml_dir(tmp_path, text), tmp_path)
    assert code == 1 and results[SEED] == "error"
    assert any("Get-ReceiveConnector.xml" in m and f"'EDGE01\\{CONNECTOR}'" in m and "property AuthMechanism" in m
               and "'Tls'" in m and "4" in m for m in messages), messages


@pytest.mark.parametrize("auth, number, result", [
    ("Tls", 1, "pass"),
    ("Tls, ExchangeServer", 17, "fail"),
    ("ExchangeServer, Tls", 17, "fail"),        # a flags ToString in any order: the bits sum to 17
    ("Tls, ExchangeServer", 16, "error"),
    ("Tls, Kerberos", 65, "error"),             # names and bits the table does not know
])
def test_clixml_flags_tostring_must_sum_to_the_number(ds, tmp_path, auth, number, result):
    text = clixml_text([(CONNECTOR, auth)], auth_ints={auth: number})
    _, results, _ = collect_and_eval(ds, _clixml_dir(tmp_path, text), tmp_path)
    assert results[SEED] == result


def test_clixml_object_with_a_property_twice_is_an_error(ds, tmp_path):
    text = clixml_text([(CONNECTOR, "Tls")], auth_shape="string")
    once = '<S N="AuthMechanism">Tls</S>'
    assert text.count(once) == 1
    for i, dup in enumerate(('<S N="AuthMechanism">BasicAuth</S>', '<S N="authmechanism">Tls</S>')):
        work = tmp_path / f"case{i}"
        work.mkdir()
        code, results, messages = collect_and_eval(ds, _clixml_dir(work, text.replace(once, dup + once)), work)
        assert code == 1 and results[SEED] == "error", dup
        assert any("Get-ReceiveConnector.xml" in m and "property AuthMechanism" in m for m in messages), messages


# --------------------------------------------------------------------------- the tables
@pytest.mark.parametrize("noun, prop, number, text", [
    ("ReceiveConnector", "AuthMechanism", 17, "Tls, ExchangeServer"),
    ("ReceiveConnector", "AuthMechanism", 0, "None"),
    ("ReceiveConnector", "PermissionGroups", 5, "AnonymousUsers, ExchangeServers"),
    ("ExchangeServer", "ServerRole", 64, "Edge"),
    ("ExchangeServer", "ServerRole", 38, "Mailbox, ClientAccess, HubTransport"),
    ("ExchangeServer", "ServerRole", 16503, "All"),                    # a named combination wins
    ("ExchangeServer", "ServerRole", 16503 | 128, "Monitoring, All"),  # .NET: ascending values
    ("SendConnector", "TlsAuthLevel", 2, "CertificateValidation"),
    ("SenderFilterConfig", "Action", 0, "StampStatus"),
    ("SenderIdConfig", "SpoofedDomainAction", 2, "Delete"),
    ("EventLogLevel", "EventLevel", 7, "Expert"),
])
def test_enum_numbers_print_like_dotnet(noun, prop, number, text):
    (n,) = normalize_value(number, property_name=prop, noun=noun)
    assert (n.text, n.error) == (text, None)
    (back,) = normalize_value(text, property_name=prop, noun=noun)
    assert (back.text, back.number) == (text, number)


def test_the_same_property_of_another_cmdlet_is_not_mapped():
    (n,) = normalize_value(2, property_name="Action", noun="ContentFilterConfig")
    assert (n.text, n.error) == ("2", None)


def _selected_properties() -> set[tuple[str, str]]:
    content = load_content()
    out = set()
    checks = [r.check for r in content.rules if r.check] + [content.benchmark.platform.check]
    for check in checks:
        for t in check.tests:
            out.update((t.object.noun.lower(), s.lower()) for s in t.object.select)
    return out


def test_every_enum_the_content_reads_has_a_table_that_agrees_with_the_example_exports():
    """Coverage: each property the content selects whose value in the built-in exports (Export-
    Clixml of a real-shaped Edge) is a .NET enum has a table, and the table reads the example's
    ToString and number without a contradiction; each table belongs to a selected property."""
    selected = _selected_properties()
    assert set(ee.ENUM_PROPERTIES) <= selected
    seen_enum = set()
    for path in sorted(example_exports_dir().glob("Get-*.xml")):
        noun = path.stem.split("-", 1)[1].lower()
        for obj in read_export(path, None).objects:
            for name, value in (properties(obj.value) or {}).items():
                if (noun, name.lower()) not in selected:
                    continue
                meta = getattr(value, "PSObject", None)
                if meta is None or not any(str(t).endswith("System.Enum") for t in meta.type_names):
                    continue
                seen_enum.add((noun, name.lower()))
                table = ee.ENUM_PROPERTIES.get((noun, name.lower()))
                assert table is not None, f"{path.name}: {name} is an enum the content reads, with no table"
                assert table.name == str(meta.type_names[0]).rsplit(".", 1)[-1].rsplit("+", 1)[-1]
                (n,) = normalize_value(value, property_name=name, noun=noun)
                assert n.error is None and n.text == str(meta.to_string), (path.name, name, n)
    assert seen_enum == set(ee.ENUM_PROPERTIES)
