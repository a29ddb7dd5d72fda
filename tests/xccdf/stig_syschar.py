"""Test and bench helper: system characteristics of an Edge server for the whole STIG, with as
many Receive connectors as asked, in the shape the collector writes.

The built-in example exports are collected for the data stream's objects (the real offline
collector), then every Receive connector object's records are repeated, with distinct names
and identities, up to `connectors`; the repo's syschar writer renders the document.
"""

from __future__ import annotations

from lxml import etree

from stigscap.evaluator.collect.model import FieldValue
from stigscap.evaluator.collect.offline import (ExportMap, collect, example_exports_dir,
                                                system_info_from_exports)
from stigscap.evaluator.collect.syschar import syschar_bytes
from stigscap.schemas.namespaces import DS, OVAL_DEF, XCCDF12


def whole_stig_syschar(ds_root: etree._Element, connectors: int, *,
                       timestamp: str = "2026-01-01T00:00:00Z") -> bytes:
    exports = ExportMap.from_specs([str(example_exports_dir())])
    objects = collect(ds_root, exports)
    for obj in objects:
        if obj.query.noun != "ReceiveConnector" or not obj.records:
            continue
        base = obj.records
        obj.records = [
            [FieldValue(f.name, f"{f.value} {i:06d}" if f.name in ("name", "identity")
                        else f.value, f.datatype) for f in base[i % len(base)]]
            for i in range(connectors)]
    system, _notes = system_info_from_exports(exports)
    return syschar_bytes(objects, system, timestamp=timestamp)


def compliance_oval(ds_root: etree._Element
                    ) -> tuple[etree._Element, dict[str, tuple[str, list[str]]]]:
    """The data stream's compliance OVAL definitions and, for each external variable, the
    default of the XCCDF Value it is exported from (the two organization-defined ones, with no
    default, get the pattern `.*`): what `oval-analyse` and `oscap oval analyse` are given."""
    defs = next(c.find(f"{{{OVAL_DEF}}}oval_definitions")
                for c in ds_root.iterfind(f"{{{DS}}}component")
                if c.get("id").endswith("-oval.xml") and "-cpe-" not in c.get("id"))
    values = {v.get("id"): v for v in ds_root.iter(f"{{{XCCDF12}}}Value")}
    exports = {e.get("export-name"): e.get("value-id")
               for e in ds_root.iter(f"{{{XCCDF12}}}check-export")}
    variables = {}
    for var in defs.iter(f"{{{OVAL_DEF}}}external_variable"):
        chosen = values[exports[var.get("id")]].findtext(f"{{{XCCDF12}}}value") or ".*"
        variables[var.get("id")] = (var.get("datatype"), [chosen])
    return defs, variables
