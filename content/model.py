"""Typed model of authored content (the YAML under content/), validated on load.

A rule file holds the DISA facts of one STIG rule and, where the check can be automated, its
machine check: OVAL `cmdlet_object`s (module, cmdlet, parameters, selected properties) and the
expected value of each selected property, or `registry_object`s (hive, key, value name) and
the expected type and value. Without `check` the rule is manual and evaluates to
`notchecked`, never to a guessed pass.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, Union

from pydantic import (BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator,
                      model_validator)

# OVAL EntityObjectCmdletVerbType: the verbs OVAL lets content name. This is NOT a safety list:
# Import-Module loads code (from a UNC path too), Approve-* and Import-* change state.
OVAL_CMDLET_VERBS = (
    "Approve", "Assert", "Compare", "Confirm", "Find", "Get", "Import", "Measure", "Read",
    "Request", "Resolve", "Search", "Select", "Show", "Test", "Trace", "Watch",
)
# The only verbs stigscap content may use and a collector may ever send to a host. Add a verb
# here only with evidence that every cmdlet with it is free of side effects on Exchange.
SAFE_VERBS = ("Get",)
# The only snap-ins/modules a cmdlet_object may name (null = none): the Exchange management
# snap-in under its 2013+ and its 2010 name (see collect.winrm.choose_snapin). Nothing else is
# ever loaded on a host (no Import-Module of content-supplied names or paths).
ALLOWED_MODULES = (
    "Microsoft.Exchange.Management.PowerShell.SnapIn",
    "Microsoft.Exchange.Management.PowerShell.E2010",
)


def unsafe_cmdlet_reason(verb: str, module: str | None) -> str | None:
    """Why a cmdlet `verb`-... from `module` must never be run (None: allowed)."""
    if verb.lower() not in {v.lower() for v in SAFE_VERBS}:
        return (f"verb '{verb}' is not allowed: only {', '.join(SAFE_VERBS)} cmdlets are run "
                "(OVAL's cmdlet verbs include ones that change state or load code)")
    if module is not None and module.lower() not in {m.lower() for m in ALLOWED_MODULES}:
        return (f"module '{module}' is not allowed: only the Exchange management snap-in "
                f"({' or '.join(ALLOWED_MODULES)}) or none")
    return None

OVAL_OPERATIONS = (
    "equals", "not equal", "case insensitive equals", "case insensitive not equal",
    "greater than", "less than", "greater than or equal", "less than or equal",
    "bitwise and", "bitwise or", "pattern match",
)
OVAL_DATATYPES = ("string", "int", "boolean", "version", "float", "binary")
CHECKS = ("all", "at least one", "none satisfy", "only one")
EXISTENCE = ("all_exist", "any_exist", "at_least_one_exists", "none_exist", "only_one_exists")
OPERATORS = ("AND", "OR", "ONE", "XOR")

_PROPERTY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NistRef(_Strict):
    control: str
    revision: Literal[4, 5]


class ValueOption(_Strict):
    selector: str
    value: str
    title: str = ""


class XccdfValue(_Strict):
    """An XCCDF Value exported to an OVAL external variable (site tailoring)."""

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    title: str
    description: str
    type: Literal["string", "number", "boolean"] = "string"
    operator: Literal["equals", "not equal", "greater than", "less than",
                      "greater than or equal", "less than or equal", "pattern match"] = "equals"
    default: str = Field(description="selector of the default option")
    options: list[ValueOption] = Field(min_length=1)
    site_must_set: bool = Field(default=False, description=(
        "organization-defined with no usable default: written as XCCDF @interactive, and a "
        "rule checked against it is notchecked until the site sets the Value"))

    @model_validator(mode="after")
    def _default_is_an_option(self) -> "XccdfValue":
        selectors = [o.selector for o in self.options]
        if len(set(selectors)) != len(selectors):
            raise ValueError("option selectors must be unique")
        if self.default not in selectors:
            raise ValueError(f"default {self.default!r} is not one of the option selectors {selectors}")
        return self

    def default_value(self) -> str:
        return next(o.value for o in self.options if o.selector == self.default)


class CmdletObject(_Strict):
    """What to collect: `<module>` loaded, then `Verb-Noun -Param value | Select-Object ...`."""

    module: str | None = Field(default=None, description="snap-in or module name; null: none")
    cmdlet: str = Field(pattern=r"^[A-Z][A-Za-z]+-[A-Za-z][A-Za-z0-9]*$")
    parameters: dict[str, str | bool | int] = Field(default_factory=dict)
    select: list[str] = Field(min_length=1)

    @field_validator("cmdlet")
    @classmethod
    def _safe_verb(cls, v: str) -> str:
        verb = v.split("-", 1)[0]
        why = unsafe_cmdlet_reason(verb, None)
        if why:
            raise ValueError(why)
        return v

    @field_validator("module")
    @classmethod
    def _allowed_module(cls, v: str | None) -> str | None:
        why = unsafe_cmdlet_reason("Get", v)
        if why:
            raise ValueError(why)
        return v

    @field_validator("select")
    @classmethod
    def _select_names(cls, v: list[str]) -> list[str]:
        for name in v:
            if not _PROPERTY.match(name):
                raise ValueError(f"select property {name!r} is not a plain property name ('*' is not allowed)")
        if len({n.lower() for n in v}) != len(v):
            raise ValueError("select properties must be unique (case-insensitive)")
        return v

    @field_validator("parameters")
    @classmethod
    def _param_names(cls, v: dict) -> dict:
        for name in v:
            if not _PROPERTY.match(name):
                raise ValueError(f"parameter name {name!r} is not a plain name")
        if len({n.lower() for n in v}) != len(v):
            raise ValueError("parameter names must be unique (case-insensitive)")
        return v

    @property
    def verb(self) -> str:
        return self.cmdlet.split("-", 1)[0]

    @property
    def noun(self) -> str:
        return self.cmdlet.split("-", 1)[1]


REGISTRY_HIVES = ("HKEY_CLASSES_ROOT", "HKEY_CURRENT_CONFIG", "HKEY_CURRENT_USER",
                  "HKEY_LOCAL_MACHINE", "HKEY_USERS")
# the registry_item entities a state may compare (OVAL registry_state)
REGISTRY_STATE_ENTITIES = ("type", "value")
REGISTRY_TYPES = ("reg_binary", "reg_dword", "reg_expand_sz", "reg_multi_sz", "reg_none",
                  "reg_qword", "reg_sz")


class RegistryObject(_Strict):
    """A registry value to read (OVAL `win-def:registry_object`): collected with
    `Get-ItemProperty -LiteralPath Registry::<hive>\\<key>` (a Get- cmdlet with one literal
    parameter), live or from an export. A state compares its `type` and `value`."""

    hive: Literal[REGISTRY_HIVES] = "HKEY_LOCAL_MACHINE"  # type: ignore[valid-type]
    key: str = Field(pattern=r"^[^\\\x00-\x1f][^\x00-\x1f]*[^\\\x00-\x1f]$",
                     description="the key below the hive, without a leading backslash")
    name: str = Field(pattern=r"^[^\x00-\x1f]+$", description="the value's name")

    @property
    def shown(self) -> str:
        return f"{self.hive}\\{self.key}\\{self.name}"


# the rights a fileeffectiverights53_state compares (booleans), in the schema's order
FILE_RIGHTS = ("standard_delete", "standard_read_control", "standard_write_dac",
               "standard_write_owner", "standard_synchronize", "access_system_security",
               "generic_read", "generic_write", "generic_execute", "generic_all",
               "file_read_data", "file_write_data", "file_append_data", "file_read_ea",
               "file_write_ea", "file_execute", "file_delete_child", "file_read_attributes",
               "file_write_attributes")
FILE_RIGHTS_STATE_ENTITIES = ("trustee_sid", *FILE_RIGHTS)


class FileRightsObject(_Strict):
    """The effective rights of a file's or directory's trustees (OVAL
    `win-def:fileeffectiverights53_object`): collected with `Get-Acl -LiteralPath <path>` (a
    Get- cmdlet with one literal parameter), live or from an export; one item per trustee. A
    state compares `trustee_sid` and the rights (booleans)."""

    path: str = Field(pattern=r"^[A-Za-z]:\\[^:*?\"<>|/\x00-\x1f]*$",
                      description="the directory, or the folder of the file")
    filename: str | None = Field(default=None, pattern=r"^[^\\/\x00-\x1f]+$",
                                 description="the file; none: the directory itself")
    trustee_sid: str = Field(description="a SID (equals) or a regular expression over the SIDs "
                                         "the DACL names (pattern match)")
    trustee_operation: Literal["equals", "pattern match"] = "pattern match"

    @model_validator(mode="after")
    def _trustee(self) -> "FileRightsObject":
        if self.trustee_operation == "equals":
            if not re.fullmatch(r"S-1-\d+(-\d+)*", self.trustee_sid):
                raise ValueError(f"trustee_sid {self.trustee_sid!r} is not a SID (S-1-…)")
        else:
            try:
                re.compile(self.trustee_sid)
            except re.error as exc:
                raise ValueError(f"trustee_sid {self.trustee_sid!r} is not a regular "
                                 f"expression: {exc}") from None
        return self

    @property
    def shown(self) -> str:
        return f"{self.path}\\{self.filename}" if self.filename else self.path


class ValueOf(_Strict):
    """A value collected on the host: `property` of the objects of test number `test` of the
    same check (1-based), e.g. the global MaxSendSize every Send connector must equal. Written
    as an OVAL local_variable (object_component with record_field)."""

    test: int = Field(ge=1)
    property: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")


class FieldCheck(_Strict):
    """Expected value of one selected property (an OVAL record field in the state)."""

    property: str
    datatype: Literal["string", "int", "boolean", "version", "float", "binary"] = "string"
    operation: Literal[OVAL_OPERATIONS] = "equals"  # type: ignore[valid-type]
    value: str | None = None
    value_ref: str | None = Field(default=None, description="id of an XCCDF Value of this rule")
    value_of: ValueOf | None = Field(default=None, description=(
        "the value collected for another test's object (a relation the STIG states, such as "
        "'the same as the global value')"))
    entity_check: Literal["all", "at least one", "none satisfy", "only one"] = "all"

    @model_validator(mode="after")
    def _one_source(self) -> "FieldCheck":
        given = [k for k in ("value", "value_ref", "value_of") if getattr(self, k) is not None]
        if len(given) != 1:
            if self.value_of is None:
                raise ValueError("give exactly one of 'value' or 'value_ref'")
            raise ValueError("give exactly one of 'value', 'value_ref' or 'value_of'")
        return self


class StateSpec(_Strict):
    fields: list[FieldCheck] = Field(min_length=1)
    entity_check: Literal["all", "at least one", "none satisfy", "only one"] = "all"


OBJECT_TAGS = ("CmdletObject", "RegistryObject", "FileRightsObject")   # a test's object kinds


def _object_kind(v: object) -> str:
    """Which object a test's `object:` mapping describes (a registry value names its hive or
    key and no cmdlet), so a mistake is reported against that kind's fields only."""
    if isinstance(v, RegistryObject) or (isinstance(v, dict) and "cmdlet" not in v
                                         and ("hive" in v or "key" in v)):
        return "RegistryObject"
    if isinstance(v, FileRightsObject) or (isinstance(v, dict) and "cmdlet" not in v
                                           and ("path" in v or "trustee_sid" in v)):
        return "FileRightsObject"
    return "CmdletObject"


class TestSpec(_Strict):
    comment: str
    object: Annotated[Union[Annotated[CmdletObject, Tag("CmdletObject")],
                            Annotated[RegistryObject, Tag("RegistryObject")],
                            Annotated[FileRightsObject, Tag("FileRightsObject")]],
                      Discriminator(_object_kind)]
    check_existence: Literal[EXISTENCE] = "at_least_one_exists"  # type: ignore[valid-type]
    check: Literal[CHECKS] = "all"  # type: ignore[valid-type]
    state: StateSpec | None = None
    alternatives: list[StateSpec] = Field(default_factory=list, description=(
        "other states an object may satisfy instead of `state` (OVAL state_operator OR), "
        "e.g. 'an authorized trustee, or one with no rights'"))
    negate: bool = False

    @property
    def states(self) -> list[StateSpec]:
        """The state and its alternatives (state_operator OR), in order."""
        return [self.state, *self.alternatives] if self.state else []

    @staticmethod
    def variable_key(n: int, k: int, prop: str) -> tuple[int, str]:
        """The key of the OVAL variable of property `prop` in state `k` (0: `state`) of test
        `n`, in OvalIds.variables."""
        return (n, prop.lower()) if k == 0 else (n, f"{prop.lower()}#{k}")

    @model_validator(mode="after")
    def _fields_selected(self) -> "TestSpec":
        if self.alternatives and self.state is None:
            raise ValueError("alternatives need a state they are alternatives to")
        if isinstance(self.object, FileRightsObject):
            for st in self.states:
                for f in st.fields:
                    if f.property not in FILE_RIGHTS_STATE_ENTITIES:
                        raise ValueError(f"state property {f.property!r} of a file-rights "
                                         f"object must be trustee_sid or a right "
                                         f"({', '.join(FILE_RIGHTS)})")
                    if f.property in FILE_RIGHTS and f.datatype != "boolean":
                        raise ValueError(f"state property {f.property!r} is a boolean")
                    if f.value_of is not None:
                        raise ValueError("value_of is for cmdlet records, not file rights")
        elif self.alternatives:
            raise ValueError("alternatives are for file-rights objects")
        elif self.state and isinstance(self.object, RegistryObject):
            for f in self.state.fields:
                if f.property not in REGISTRY_STATE_ENTITIES:
                    raise ValueError(f"state property {f.property!r} of a registry object must be "
                                     f"one of {', '.join(REGISTRY_STATE_ENTITIES)}")
                if f.property == "type" and (f.value not in REGISTRY_TYPES
                                             or f.operation != "equals"):
                    raise ValueError(f"state type must equal one of {', '.join(REGISTRY_TYPES)}")
                if f.value_of is not None:
                    raise ValueError("value_of is for cmdlet records, not registry values")
        elif self.state:
            assert isinstance(self.object, CmdletObject)
            selected = {s.lower() for s in self.object.select}
            for f in self.state.fields:
                if f.property.lower() not in selected:
                    raise ValueError(f"state property {f.property!r} is not in the object's select list")
        return self


class MachineCheck(_Strict):
    """The rule's OVAL criteria: tests combined with one operator."""

    operator: Literal[OPERATORS] = "AND"  # type: ignore[valid-type]
    tests: list[TestSpec] = Field(min_length=1)
    meaning: str = Field(description="plain statement of what pass means, shown in results")

    @model_validator(mode="after")
    def _value_of_refs(self) -> "MachineCheck":
        for n, t in enumerate(self.tests, start=1):
            for f in (t.state.fields if t.state else []):
                if f.value_of is None:
                    continue
                ref = f.value_of
                if ref.test == n or ref.test > len(self.tests):
                    raise ValueError(f"value_of of {f.property!r} (test {n}) names test "
                                     f"{ref.test}: it must be another test of this check")
                target = self.tests[ref.test - 1].object
                other = target.select if isinstance(target, CmdletObject) else []
                if ref.property.lower() not in {s.lower() for s in other}:
                    raise ValueError(f"value_of property {ref.property!r} is not in the select "
                                     f"list of test {ref.test}")
        return self


class Applicability(_Strict):
    """A condition under which a rule applies (the STIG's "if ..., this requirement is not
    applicable" where the host decides it): an XCCDF platform of the rule, a CPE name in the
    data stream's dictionary checked by an OVAL inventory definition. Where it is false the
    rule is notapplicable; where it cannot be decided the rule is error, never notapplicable."""

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    title: str
    cpe: str = Field(pattern=r"^cpe:2\.3:[aho\*\-]:")
    cpe22: str = Field(pattern=r"^cpe:/[aho]:")
    check: MachineCheck


class RuleRevision(_Strict):
    """The machine check of one later release of the rule whose check text changed
    (`generate --stig` takes it for that release's rule id instead of going manual)."""

    rule_id: str = Field(pattern=r"^SV-\d+r\d+_rule$")
    reading: str = Field(description="how stigscap reads that release's check text")
    values: list[XccdfValue] = Field(default_factory=list)
    check: MachineCheck


class ValueOverride(_Strict):
    """A STIG's own take on a family's XCCDF Value: another default selector, other options
    (e.g. the product's builds), organization-defined or not."""

    title: str | None = None
    description: str | None = None
    default: str | None = None
    options: list[ValueOption] | None = None
    site_must_set: bool | None = None


class FieldOverride(_Strict):
    """A STIG's own expected value for one state field of a family's check (test number,
    property): the stated value and/or the operation."""

    test: int = Field(ge=1)
    property: str
    value: str | None = None
    operation: Literal[OVAL_OPERATIONS] | None = None  # type: ignore[valid-type]


class Overrides(_Strict):
    """What one STIG states differently from the family it shares its check with."""

    values: dict[str, ValueOverride] = Field(default_factory=dict)
    fields: list[FieldOverride] = Field(default_factory=list)
    meaning: str | None = None


class Family(_Strict):
    """One requirement as several STIGs state it (EX13-EG-000340, EX16-ED-000680 and
    EX19-ED-000235 are one family): the machine check, its XCCDF Values and applicability, and
    how stigscap reads the requirement. A rule file names its family (`family:`) and carries
    only its STIG's facts and `overrides:` (ids, texts and severity are facts of the rule)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    values: list[XccdfValue] = Field(default_factory=list)
    check: MachineCheck
    applicability: Applicability | None = None
    reading: str | None = None


class Rule(_Strict):
    group_id: str = Field(pattern=r"^V-\d+$")
    group_title: str
    rule_id: str = Field(pattern=r"^SV-\d+r\d+_rule$")
    version: str = Field(description="STIG ID, e.g. EX13-EG-000340")
    severity: Literal["high", "medium", "low"]
    weight: float = 10.0
    title: str
    discussion: str
    check_content: str
    check_id: str | None = None
    fix_text: str
    fix_id: str | None = None
    ccis: list[str] = Field(min_length=1)
    nist: list[NistRef] = Field(default_factory=list)
    legacy_ids: list[str] = Field(default_factory=list)
    values: list[XccdfValue] = Field(default_factory=list)
    check: MachineCheck | None = None
    applicability: Applicability | None = None
    reading: str | None = Field(default=None, description=(
        "how stigscap reads the STIG's text where it and a plain default could differ"))
    revisions: list[RuleRevision] = Field(default_factory=list)
    family: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$", description=(
        "the requirement family (families/<id>.yaml) whose check this rule shares"))
    overrides: Overrides | None = None
    review: str | None = Field(default=None, description="draft notes for a human reviewer")

    @field_validator("ccis")
    @classmethod
    def _cci_form(cls, v: list[str]) -> list[str]:
        for c in v:
            if not re.fullmatch(r"CCI-\d{6}", c):
                raise ValueError(f"{c!r} is not a CCI identifier (CCI-nnnnnn)")
        return v

    @model_validator(mode="after")
    def _value_refs(self) -> "Rule":
        if self.family and self.check and not self.values and any(
                f.value_ref for t in self.check.tests for st in t.states for f in st.fields):
            raise ValueError(f"check: a rule with a family takes it from the family "
                             f"({self.family}); state differences under overrides")
        checks = [(self.check, {v.id for v in self.values})]
        checks += [(r.check, {v.id for v in r.values}) for r in self.revisions]
        for check, ids in checks:
            for t in (check.tests if check else []):
                for f in (f for st in t.states for f in st.fields):
                    if f.value_ref and f.value_ref not in ids:
                        raise ValueError(f"value_ref {f.value_ref!r} names no Value of this rule")
        return self

    @property
    def vuln_number(self) -> int:
        return int(self.group_id.split("-", 1)[1])

    @property
    def automated(self) -> bool:
        return self.check is not None


class Profile(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str
    description: str = ""
    rules: Literal["all"] | list[str] = "all"


class Platform(_Strict):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    title: str
    cpe: str = Field(pattern=r"^cpe:2\.3:[aho\*\-]:")
    cpe22: str = Field(pattern=r"^cpe:/[aho]:")
    check: MachineCheck


class Benchmark(_Strict):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    title: str
    description: str
    version: int
    release: int
    benchmark_date: dt.date
    status: Literal["accepted", "draft", "interim", "incomplete", "deprecated"] = "accepted"
    status_date: dt.date
    publisher: str = "DISA"
    source: str = "STIG.DOD.MIL"
    creator: str = "DISA"
    contributor: str = "stigscap"
    notice: str = "terms-of-use"
    dpms_target: str
    dpms_identifier: str
    platform: Platform
    profiles: list[Profile] = Field(min_length=1)
    disa_file_stem: str | None = Field(default=None, pattern=r"^U_[A-Za-z0-9_]+$", description=(
        "DISA's name for the manual XCCDF up to the version, e.g. "
        "U_MS_Exchange_2013_Edge_Transport_Server_STIG (default: U_<id>)"))

    @property
    def disa_file_name(self) -> str:
        """The DISA manual XCCDF's file name, as STIG Viewer records it (STIG_INFO filename):
        U_<name>_V<version>R<release>_Manual-xccdf.xml (from the facts, never from the name of
        the file the facts were read from, so a renamed copy generates the same content)."""
        return f"{self.disa_file_stem or 'U_' + self.id}_V{self.version}R{self.release}_Manual-xccdf.xml"

    @property
    def release_info(self) -> str:
        d = self.benchmark_date
        return f"Release: {self.release} Benchmark Date: {d.day:02d} {d.strftime('%b')} {d.year}"


FAMILY_FIELDS = ("check", "values", "applicability", "reading")


def resolve_family(rule: Rule, family: Family) -> Rule:
    """The rule with its family's check, Values, applicability and reading, as its
    `overrides` change them. Raises ValueError (naming the field) on a contradiction."""
    if rule.family != family.id:
        raise ValueError(f"rule names family {rule.family!r}, not {family.id!r}")
    for name in FAMILY_FIELDS:
        if name == "reading":
            continue
        if getattr(rule, name):
            raise ValueError(f"{name}: a rule with a family takes it from the family "
                             f"({family.id}); state differences under overrides")
    ov = rule.overrides or Overrides()
    values = []
    known = {v.id for v in family.values}
    for vid in ov.values:
        if vid not in known:
            raise ValueError(f"overrides.values: family {family.id} has no Value {vid!r}")
    for v in family.values:
        o = ov.values.get(v.id)
        if o is not None:
            v = XccdfValue.model_validate({**v.model_dump(), **o.model_dump(exclude_none=True)})
        values.append(v)
    check = family.check.model_dump()
    for f in ov.fields:
        tests = check["tests"]
        if f.test > len(tests) or not tests[f.test - 1]["state"]:
            raise ValueError(f"overrides.fields: family {family.id} has no state in test {f.test}")
        fields = [x for x in tests[f.test - 1]["state"]["fields"]
                  if x["property"].lower() == f.property.lower()]
        if not fields:
            raise ValueError(f"overrides.fields: test {f.test} of family {family.id} states no "
                             f"{f.property!r}")
        for x in fields:
            if f.value is not None:
                x.update({"value": f.value, "value_ref": None, "value_of": None})
            if f.operation is not None:
                x["operation"] = f.operation
    if ov.meaning:
        check["meaning"] = ov.meaning
    data = rule.model_dump()
    data.update({"check": check, "values": [v.model_dump() for v in values],
                 "applicability": family.applicability.model_dump() if family.applicability
                 else None,
                 "reading": rule.reading or family.reading})
    return Rule.model_validate(data)
