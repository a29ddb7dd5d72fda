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
