"""Build OVAL definitions / system-characteristics / variables documents for the OVAL tests.

Written like the seed rule's content (win-def:cmdlet_test over Get-ReceiveConnector records),
generated in Python so the differential suite can cover many combinations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

NS = ('xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" '
      'xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5" '
      'xmlns:win-def="http://oval.mitre.org/XMLSchema/oval-definitions-5#windows" '
      'xmlns:ind-def="http://oval.mitre.org/XMLSchema/oval-definitions-5#independent" '
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
SC_NS = ('xmlns="http://oval.mitre.org/XMLSchema/oval-system-characteristics-5" '
         'xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5" '
         'xmlns:win-sc="http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows" '
         'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
GEN = ('<generator><oval:product_name>stigscap tests</oval:product_name>'
       '<oval:schema_version>5.11.2</oval:schema_version>'
       '<oval:timestamp>2026-01-01T00:00:00</oval:timestamp></generator>')
P = "oval:mil.disa.stig"


def a(name: str, value) -> str:
    return "" if value is None else f" {name}={quoteattr(str(value))}"


@dataclass
class F:
    """A state record field."""
    name: str
    value: str | None = None
    datatype: str = "string"
    operation: str = "equals"
    var_ref: str | None = None
    var_check: str | None = None
    entity_check: str | None = None
    mask: bool = False

    def xml(self) -> str:
        body = "" if self.value is None else escape(self.value)
        return (f'<field name="{self.name}" datatype="{self.datatype}"'
                f'{a("operation", self.operation)}{a("var_ref", self.var_ref)}'
                f'{a("var_check", self.var_check)}{a("entity_check", self.entity_check)}'
                f'{a("mask", "true" if self.mask else None)}>'
                f'{body}</field>')


@dataclass
class State:
    id: str
    fields: list[F] = field(default_factory=list)
    entity_check: str | None = None
    check_existence: str | None = None
    operator: str | None = None
    extra: str = ""            # other state entities (e.g. <win-def:verb>Get</win-def:verb>)
    mask: bool = False

    def xml(self) -> str:
        value = ""
        if self.fields:
            value = (f'<win-def:value datatype="record"{a("entity_check", self.entity_check)}'
                     f'{a("check_existence", self.check_existence)}'
                     f'{a("mask", "true" if self.mask else None)}>'
                     + "".join(f.xml() for f in self.fields) + "</win-def:value>")
        return (f'<win-def:cmdlet_state id="{self.id}" version="1"{a("operator", self.operator)}>'
                f'{self.extra}{value}</win-def:cmdlet_state>')


@dataclass
class Test:
    __test__ = False  # not a pytest test class
    id: str
    object_ref: str
    state_refs: list[str] = field(default_factory=list)
    check: str = "all"
    check_existence: str | None = "at_least_one_exists"
    state_operator: str | None = None

    def xml(self) -> str:
        states = "".join(f'<win-def:state state_ref="{s}"/>' for s in self.state_refs)
        return (f'<win-def:cmdlet_test id="{self.id}" version="1" check="{self.check}"'
                f'{a("check_existence", self.check_existence)}'
                f'{a("state_operator", self.state_operator)} comment="test {self.id}">'
                f'<win-def:object object_ref="{self.object_ref}"/>{states}</win-def:cmdlet_test>')


def cmdlet_object(obj_id: str, noun: str = "ReceiveConnector",
                  select: tuple[str, ...] = ("Name", "Identity", "AuthMechanism")) -> str:
    sel = "".join(f'<field name="{s.lower()}" datatype="string">{s}</field>' for s in select)
    return (f'<win-def:cmdlet_object id="{obj_id}" version="1">'
            '<win-def:module_name>Microsoft.Exchange.Management.PowerShell.SnapIn'
            '</win-def:module_name><win-def:module_id xsi:nil="true"/>'
            '<win-def:module_version datatype="version" xsi:nil="true"/><win-def:verb>Get</win-def:verb>'
            f'<win-def:noun>{noun}</win-def:noun>'
            '<win-def:parameters datatype="record" xsi:nil="true"/>'
            f'<win-def:select datatype="record">{sel}</win-def:select></win-def:cmdlet_object>')


def criterion(test_id: str, negate: bool = False) -> str:
    return f'<criterion test_ref="{test_id}"{a("negate", "true" if negate else None)}/>'


def extend(def_id: str, negate: bool = False) -> str:
    return f'<extend_definition definition_ref="{def_id}"{a("negate", "true" if negate else None)}/>'


def criteria(operator: str, *children: str, negate: bool = False) -> str:
    return (f'<criteria operator="{operator}"{a("negate", "true" if negate else None)}>'
            + "".join(children) + "</criteria>")


def definition(def_id: str, crit: str, cls: str = "compliance") -> str:
    return (f'<definition id="{def_id}" version="1" class="{cls}"><metadata><title>{def_id}'
            f'</title><description>generated</description></metadata>{crit}</definition>')


def external_variable(var_id: str, datatype: str = "string") -> str:
    return (f'<external_variable id="{var_id}" version="1" datatype="{datatype}" '
            f'comment="ext {var_id}"/>')


def constant_variable(var_id: str, values: list[str], datatype: str = "string") -> str:
    vals = "".join(f"<value>{escape(v)}</value>" for v in values)
    return (f'<constant_variable id="{var_id}" version="1" datatype="{datatype}" '
            f'comment="const {var_id}">{vals}</constant_variable>')


def definitions_doc(defs: list[str], tests: list[str], objects: list[str], states: list[str],
                    variables: list[str] = ()) -> bytes:
    parts = [f"<oval_definitions {NS}>{GEN}", "<definitions>" + "".join(defs) + "</definitions>",
             "<tests>" + "".join(tests) + "</tests>", "<objects>" + "".join(objects) + "</objects>"]
    if states:
        parts.append("<states>" + "".join(states) + "</states>")
    if variables:
        parts.append("<variables>" + "".join(variables) + "</variables>")
    parts.append("</oval_definitions>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + "".join(parts)).encode()


# ------------------------------------------------------------------ system characteristics

Record = list  # list of (name, value, datatype[, status])


def cmdlet_item(item_id: int, records: list[Record], status: str | None = None,
                noun: str = "ReceiveConnector", message: str | None = None,
                select: tuple[str, ...] | None = None) -> str:
    recs = []
    for rec in records:
        fs = []
        for f in rec:
            name, value, datatype = f[0], f[1], f[2] if len(f) > 2 else "string"
            st = f[3] if len(f) > 3 else None
            fs.append(f'<field name="{name}" datatype="{datatype}"{a("status", st)}>'
                      f'{escape(value)}</field>')
        recs.append('<win-sc:value datatype="record">' + "".join(fs) + "</win-sc:value>")
    msg = f'<message level="error">{escape(message)}</message>' if message else ""
    return (f'<win-sc:cmdlet_item id="{item_id}"{a("status", status)}>{msg}'
            '<win-sc:module_name>Microsoft.Exchange.Management.PowerShell.SnapIn'
            '</win-sc:module_name><win-sc:verb>Get</win-sc:verb>'
            f'<win-sc:noun>{noun}</win-sc:noun>' + _echo(noun, select) + "".join(recs)
            + "</win-sc:cmdlet_item>")


SELECTS = {"ReceiveConnector": ("Name", "Identity", "AuthMechanism"),
           "ExchangeServer": ("Name", "ServerRole", "AdminDisplayVersion"),
           "TransportConfig": ("Flags", "Ver", "Enabled", "Ratio", "Limit")}


def _echo(noun: str, select: tuple[str, ...] | None) -> str:
    """The object's parameters (nil) and select echoed into the item."""
    sel = select or SELECTS.get(noun, ())
    fields = "".join(f'<field name="{s.lower()}" datatype="string">{s}</field>' for s in sel)
    return ('<win-sc:parameters datatype="record" xsi:nil="true"/>'
            f'<win-sc:select datatype="record">{fields}</win-sc:select>')


def connector(name: str, auth: str, server: str = "EDGE01") -> Record:
    return [("name", name), ("identity", f"{server}\\{name}"), ("authmechanism", auth)]


def collected(obj_id: str, flag: str, item_ids: list[int] = (), message: str | None = None) -> str:
    refs = "".join(f'<reference item_ref="{i}"/>' for i in item_ids)
    msg = f'<message level="info">{escape(message)}</message>' if message else ""
    return f'<object id="{obj_id}" version="1" flag="{flag}">{msg}{refs}</object>'


def syschar_doc(objects: list[str], items: list[str]) -> bytes:
    info = ('<system_info><os_name>Microsoft Windows Server 2012 R2</os_name>'
            '<os_version>6.3.9600</os_version><architecture>x86_64</architecture>'
            '<primary_host_name>EDGE01</primary_host_name><interfaces><interface>'
            '<interface_name>eth0</interface_name><ip_address>192.0.2.10</ip_address>'
            '<mac_address>00-11-22-33-44-55</mac_address></interface></interfaces>'
            '</system_info>')
    body = f"<oval_system_characteristics {SC_NS}>{GEN}{info}"
    if objects:
        body += "<collected_objects>" + "".join(objects) + "</collected_objects>"
    if items:
        body += "<system_data>" + "".join(items) + "</system_data>"
    body += "</oval_system_characteristics>"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()


def variables_doc(values: dict[str, tuple[str, list[str]]]) -> bytes:
    """values: var id → (datatype, values)."""
    vs = "".join(
        f'<variable id="{vid}" datatype="{dt}" comment="v">'
        + "".join(f"<value>{escape(v)}</value>" for v in vals) + "</variable>"
        for vid, (dt, vals) in values.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oval_variables xmlns="http://oval.mitre.org/XMLSchema/oval-variables-5" '
            'xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5">'
            f'{GEN}<variables>{vs}</variables></oval_variables>').encode()


def indented(doc: bytes) -> bytes:
    """The document one element a line. oscap 1.3.7's reader loses the element that follows
    an element without children when no text separates them (an empty collected object's
    neighbour: "No syschar for object"; the second of two external_variables: "Attempt to
    bind a non-external variable"), which would be a parser accident, not an OVAL reading."""
    root = etree.fromstring(doc)
    etree.indent(root, space=" ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
