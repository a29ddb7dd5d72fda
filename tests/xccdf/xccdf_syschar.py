"""Test helper: OVAL system characteristics for an Exchange Edge host, in the agreed shape.

One `win-sc:cmdlet_item` per collected cmdlet_object (Get-ExchangeServer for the platform
inventory, Get-ReceiveConnector for SV-84553), one `value` record per pipeline object.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

OBJ_INVENTORY = "oval:mil.disa.stig:obj:101"
OBJ_CONNECTORS = "oval:mil.disa.stig:obj:6993101"
SNAPIN = "Microsoft.Exchange.Management.PowerShell.SnapIn"


def _field(name: str, value: str) -> str:
    return f'<oval-sc:field name="{name}" datatype="string">{escape(value)}</oval-sc:field>'


def _item(item_id: int, noun: str, select: list[tuple[str, str]], records: list[dict] | None,
          status: str = "exists", message: str | None = None) -> str:
    parts = [f'<win-sc:cmdlet_item id="{item_id}" status="{status}">']
    if message:
        parts.append(f'<oval-sc:message level="error">{escape(message)}</oval-sc:message>')
    parts.append(f"<win-sc:module_name>{SNAPIN}</win-sc:module_name>"
                 '<win-sc:module_id xsi:nil="true"/><win-sc:module_version datatype="version" xsi:nil="true"/>'
                 f"<win-sc:verb>Get</win-sc:verb><win-sc:noun>{noun}</win-sc:noun>"
                 '<win-sc:parameters datatype="record" xsi:nil="true"/>'
                 '<win-sc:select datatype="record">'
                 + "".join(_field(low, prop) for low, prop in select) + "</win-sc:select>")
    for rec in records or []:
        parts.append('<win-sc:value datatype="record">'
                     + "".join(_field(k, v) for k, v in rec.items()) + "</win-sc:value>")
    parts.append("</win-sc:cmdlet_item>")
    return "".join(parts)


def syschar_xml(connectors: list[tuple[str, str]] | None = None, *, host: str = "EDGE01",
                domain: str | None = "example.mil", ip: str = "192.0.2.10",
                mac: str = "00-15-5D-01-02-03", role: str = "Edge",
                version: str = "Version 15.0 (Build 1497.2)",
                connector_status: str = "exists", connector_message: str | None = None,
                include_inventory: bool = True) -> bytes:
    """connectors: (name, AuthMechanism) pairs; identity is HOST\\name."""
    if connectors is None:
        connectors = [("Default internal receive connector EDGE01", "Tls")]
    fqdn = f"{host}.{domain}" if domain else host
    objects, items = [], []
    if include_inventory:
        objects.append(f'<collected_objects_placeholder id="{OBJ_INVENTORY}" ref="1"/>')
        # the select of the content's inventory object (content/benchmark.yaml), all of it:
        # an item collected with another select is not that object's item
        items.append(_item(1, "ExchangeServer",
                           [("name", "Name"), ("serverrole", "ServerRole"),
                            ("admindisplayversion", "AdminDisplayVersion"),
                            ("isedgeserver", "IsEdgeServer"), ("ismailboxserver", "IsMailboxServer")],
                           [{"name": host, "serverrole": role, "admindisplayversion": version,
                             "isedgeserver": str("Edge" in role).lower(),
                             "ismailboxserver": str("Mailbox" in role).lower()}]))
    flag = "error" if connector_status == "error" else "complete"
    objects.append(f'<collected_objects_placeholder id="{OBJ_CONNECTORS}" ref="2" flag="{flag}"/>')
    items.append(_item(2, "ReceiveConnector",
                       [("name", "Name"), ("identity", "Identity"),
                        ("authmechanism", "AuthMechanism")],
                       None if connector_status == "error" else
                       [{"name": n, "identity": f"{host}\\{n}", "authmechanism": a}
                        for n, a in connectors],
                       status=connector_status, message=connector_message))
    collected = []
    for o in objects:
        oid = o.split('id="')[1].split('"')[0]
        ref = o.split('ref="')[1].split('"')[0]
        fl = o.split('flag="')[1].split('"')[0] if 'flag="' in o else "complete"
        collected.append(f'<object id="{oid}" version="1" flag="{fl}"><reference item_ref="{ref}"/></object>')
    doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<oval_system_characteristics xmlns="http://oval.mitre.org/XMLSchema/oval-system-characteristics-5" xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5" xmlns:oval-sc="http://oval.mitre.org/XMLSchema/oval-system-characteristics-5" xmlns:win-sc="http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<generator><oval:product_name>stigscap test</oval:product_name><oval:schema_version>5.11.2</oval:schema_version><oval:timestamp>2026-01-01T00:00:00</oval:timestamp></generator>
<system_info><os_name>Microsoft Windows Server 2012 R2 Standard</os_name><os_version>6.3.9600</os_version><architecture>x86_64</architecture><primary_host_name>{fqdn}</primary_host_name>
<interfaces><interface><interface_name>Ethernet0</interface_name><ip_address>{ip}</ip_address><mac_address>{mac}</mac_address></interface></interfaces></system_info>
<collected_objects>{''.join(collected)}</collected_objects>
<system_data>{''.join(items)}</system_data>
</oval_system_characteristics>
"""
    return doc.encode("utf-8")
