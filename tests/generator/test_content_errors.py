"""Bad content gives one line naming the file, the line and the field; no output file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stigscap.content.loader import builtin_content_dir, load_content
from tests.cli_helpers import assert_one_line_error, stigscap

RULE_FILE = "rules/EX13-EG-000340.yaml"
# the seed rule's check lives in its requirement family (issue 14), shared with EX16/EX19 rules
FAMILY_FILE = "families/receive-connector-requires-tls.yaml"
FAMILY_NAME = "receive-connector-requires-tls.yaml"


@pytest.fixture
def content_copy(tmp_path) -> Path:
    dst = tmp_path / "content"
    shutil.copytree(builtin_content_dir(), dst,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__", "examples"))
    return dst


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def _generate(content: Path, tmp_path: Path, *extra: str):
    out = tmp_path / "out.xml"
    run = stigscap("generate", "--content", content, "-o", out, *extra)
    assert not out.exists(), "no output file on error"
    assert not list(tmp_path.glob(".out.xml.*")), "no temporary file left behind"
    return run


def test_builtin_content_loads():
    c = load_content()
    seed = c.rule("SV-84553r1_rule")
    assert seed.automated and seed.version == "EX13-EG-000340"
    assert c.rule("V-69931") is seed and c.rule("EX13-EG-000340") is seed


def test_malformed_yaml(content_copy, tmp_path):
    f = content_copy / RULE_FILE
    _edit(f, "severity: high", "severity: [high")
    run = _generate(content_copy, tmp_path)
    assert_one_line_error(run, "EX13-EG-000340.yaml:", "malformed YAML")


def test_missing_field_names_field_and_line(content_copy, tmp_path):
    f = content_copy / RULE_FILE
    _edit(f, "fix_text: |-", "fixtext_moved: |-")
    run = _generate(content_copy, tmp_path)
    assert_one_line_error(run, "EX13-EG-000340.yaml", "fix_text", "required field is missing")


def test_misspelled_field_names_field_and_line(content_copy, tmp_path):
    f = content_copy / RULE_FILE
    _edit(f, "severity: high", "severity: high\nseverty: high")
    line = _line_of(f, "severty:")
    run = _generate(content_copy, tmp_path)
    assert_one_line_error(run, f"EX13-EG-000340.yaml:{line}:", "severty", "unknown field")


def test_nested_field_error_points_at_its_line(content_copy, tmp_path):
    f = content_copy / FAMILY_FILE
    _edit(f, "cmdlet: Get-ReceiveConnector", "cmdlet: Set-ReceiveConnector")
    line = _line_of(f, "cmdlet: Set-ReceiveConnector")
    run = _generate(content_copy, tmp_path)
    assert_one_line_error(run, f"{FAMILY_NAME}:{line}:", "check.tests.0.object.cmdlet",
                          "verb 'Set' is not allowed")


@pytest.mark.parametrize("cmdlet", ["Import-Module", "Import-TransportRuleCollection", "Approve-Request",
                                    "Test-ReceiveConnector"])
def test_content_may_only_use_get_cmdlets(content_copy, tmp_path, cmdlet):
    """OVAL allows these verbs, but they load code or change state: generation refuses them."""
    f = content_copy / FAMILY_FILE
    _edit(f, "cmdlet: Get-ReceiveConnector", f"cmdlet: {cmdlet}")
    line = _line_of(f, f"cmdlet: {cmdlet}")
    verb = cmdlet.split("-")[0]
    assert_one_line_error(_generate(content_copy, tmp_path), f"{FAMILY_NAME}:{line}:",
                          f"verb '{verb}' is not allowed")


@pytest.mark.parametrize("module", [r"\\attacker\share\evil.psm1", "ExchangeOnlineManagement"])
def test_content_may_only_load_the_exchange_snapin(content_copy, tmp_path, module):
    f = content_copy / FAMILY_FILE
    _edit(f, "module: Microsoft.Exchange.Management.PowerShell.SnapIn", f"module: '{module}'")
    line = _line_of(f, "module: ")
    assert_one_line_error(_generate(content_copy, tmp_path), f"{FAMILY_NAME}:{line}:",
                          "check.tests.0.object.module", "is not allowed")


def test_bad_value_default(content_copy, tmp_path):
    _edit(content_copy / FAMILY_FILE, "default: exact", "default: strict")
    assert_one_line_error(_generate(content_copy, tmp_path), "values.0", "strict")


def test_state_property_must_be_selected(content_copy, tmp_path):
    _edit(content_copy / FAMILY_FILE, "- property: AuthMechanism", "- property: PermissionGroups")
    assert_one_line_error(_generate(content_copy, tmp_path), "PermissionGroups",
                          "not in the object's select list")


def test_unknown_rule_id(tmp_path):
    out = tmp_path / "out.xml"
    run = stigscap("generate", "--rule", "SV-99999r1_rule", "-o", out)
    assert_one_line_error(run, "unknown rule id 'SV-99999r1_rule'", "SV-84553r1_rule")
    assert not out.exists()


def test_not_a_mapping(content_copy, tmp_path):
    (content_copy / RULE_FILE).write_text("- just\n- a list\n")
    assert_one_line_error(_generate(content_copy, tmp_path), "expected a mapping")


def test_missing_content_dir(tmp_path):
    assert_one_line_error(_generate(tmp_path / "nowhere", tmp_path), "no benchmark.yaml")


def test_generated_content_is_validated_before_writing(content_copy, tmp_path):
    # the content model allows it, the CPE 2.3 dictionary schema does not: a CPE name with a space
    _edit(content_copy / "benchmark.yaml", "cpe22: cpe:/a:microsoft:exchange_server:2013",
          "cpe22: cpe:/a:microsoft:exchange server:2013")
    run = _generate(content_copy, tmp_path)
    assert_one_line_error(run, "refusing to write invalid content", "cpe-item")


@pytest.mark.parametrize("old, new, why", [
    ("value_of: {test: 1, property: MaxSendSize}", "value_of: {test: 2, property: MaxSendSize}",
     "must be another test of this check"),
    ("value_of: {test: 1, property: MaxSendSize}", "value_of: {test: 1, property: MaxRecvSize}",
     "is not in the select list of test 1"),
    ("value_of: {test: 1, property: MaxSendSize}",
     "value_of: {test: 1, property: MaxSendSize}\n        value: x",
     "give exactly one of 'value', 'value_ref' or 'value_of'"),
])
def test_bad_collected_value_reference(content_copy, tmp_path, old, new, why):
    f = content_copy / "families/send-connector-size-equals-global.yaml"
    _edit(f, old, new)
    run = _generate(content_copy, tmp_path)
    assert_one_line_error(run, "send-connector-size-equals-global.yaml", why)


def test_applicability_defined_twice_differently(content_copy, tmp_path):
    src = (content_copy / "families/ip-block-list-provider.yaml").read_text()
    block = src[src.index("applicability:"):src.index("reading:")]
    f = content_copy / "families/content-filter-enabled.yaml"
    f.write_text(f.read_text() + block.replace("Get-IPBlockListProvider returns at least one",
                                              "Some other condition"))
    run = _generate(content_copy, tmp_path)
    assert_one_line_error(run, "applicability 'exchange_ip_block_list_provider' is defined "
                               "differently by two rules")


def test_unknown_family(content_copy, tmp_path):
    f = content_copy / RULE_FILE
    _edit(f, "family: receive-connector-requires-tls", "family: receive-connector-requires-tlz")
    assert_one_line_error(_generate(content_copy, tmp_path),
                          f"EX13-EG-000340.yaml:{_line_of(f, 'family:')}:",
                          "no family 'receive-connector-requires-tlz'")


def test_rule_with_a_family_does_not_carry_its_own_check(content_copy, tmp_path):
    f = content_copy / RULE_FILE
    check = (content_copy / FAMILY_FILE).read_text().split("\ncheck:", 1)[1]
    f.write_text(f.read_text() + "check:" + check)
    assert_one_line_error(_generate(content_copy, tmp_path), "EX13-EG-000340.yaml",
                          "receive-connector-requires-tls", "a rule with a family takes it from")


def test_override_of_a_value_the_family_lacks(content_copy, tmp_path):
    f = content_copy / RULE_FILE
    f.write_text(f.read_text() + "overrides:\n  values:\n    no_such_value: {default: x}\n")
    assert_one_line_error(_generate(content_copy, tmp_path),
                          f"EX13-EG-000340.yaml:{_line_of(f, 'overrides:')}:",
                          "has no Value 'no_such_value'")


def test_family_file_named_for_its_id(content_copy, tmp_path):
    _edit(content_copy / FAMILY_FILE, "id: receive-connector-requires-tls", "id: other")
    assert_one_line_error(_generate(content_copy, tmp_path), FAMILY_NAME,
                          "family id 'other' differs from the file name")
