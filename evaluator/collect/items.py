"""The collectors of OVAL objects that are not cmdlet_objects, by kind: the pipeline objects of
the Get- cmdlet a query stands for → the CollectedObject with its items. Both the offline and
the live path call `items_result`, so both apply the same rules."""

from __future__ import annotations

from typing import Any, Iterable

from .file_item import file_item_result
from .file_rights import file_rights_result
from .model import CmdletQuery, CollectedObject
from .registry import registry_result

# the kinds `items_result` collects (CmdletQuery.kind), each with the Get- cmdlet it runs
KINDS = {"registry": "Get-ItemProperty", "fileeffectiverights": "Get-Acl", "file": "Get-Item"}


def items_result(query: CmdletQuery, objects: Iterable[Any], source: str, *, offline: bool,
                 json: bool = False) -> CollectedObject:
    """The CollectedObject of a non-cmdlet object (live: its own call's output; offline: every
    object of the export, each query picking its own)."""
    if query.kind == "registry":
        return registry_result(query, objects, source, offline=offline, json=json)
    if query.kind == "fileeffectiverights":
        return file_rights_result(query, objects, source, offline=offline)
    if query.kind == "file":
        return file_item_result(query, objects, source, offline=offline)
    return CollectedObject(query, flag="error", status="error",
                           messages=[f"no collector for {query.kind} objects"])


__all__ = ["KINDS", "items_result"]
