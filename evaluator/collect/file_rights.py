"""Get-Acl output → OVAL `win-sc:fileeffectiverights_item`s (what a
`fileeffectiverights53_object` is collected as): the rules both collectors follow.

The object names one file or directory and its trustees (a SID, or a pattern over the SIDs the
DACL names). It is collected with `Get-Acl -LiteralPath <file or directory>` (live, one call
per object; offline, one export of every path: ``Get-Acl -LiteralPath <path>, <path> |
Export-Clixml Get-Acl.xml``). The Get-Acl object whose Path names the file holds the security
descriptor (`Sddl`); `filesystem.py` reads it and computes each trustee's effective rights
(readings there: the trustee's own ACEs and Everyone's, groups not expanded).

Outcomes: one item per trustee (status exists); a pattern no DACL SID matches → `does not
exist`; live, a missing path (PathNotFound) → `does not exist`; offline, no object of the
export names the path → `not collected`; an SDDL that cannot be read, or a trustee whose rights
cannot be known (an ACE naming a domain-relative alias that could be it, an object ACE) →
`error` naming the file, path and problem, never a guessed right.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from .filesystem import AclError, account_name, canonical_sid, effective_rights, read_get_acl, \
    trustees
from .model import CmdletQuery, CollectedObject, ItemEntity, WinItem, nothing_found
from .records import Unattributed, attributed, collected_error

EVERYONE = "S-1-1-0"


def file_rights_result(query: CmdletQuery, objects: Iterable[Any], source: str, *,
                       offline: bool) -> CollectedObject:
    """The CollectedObject of one fileeffectiverights53_object from Get-Acl's pipeline objects
    (live: the output of this object's own call; offline: every object of the export)."""
    folder, name, kind, op, pattern = query.target
    full = f"{folder}\\{name}" if name else folder

    def identify(props: dict[str, Any] | None) -> tuple[str, Any]:
        if props is None:
            raise ValueError(" is not a Get-Acl object (it has no properties)")
        try:
            return read_get_acl(props)
        except AclError as exc:
            if "property Path" in str(exc):   # another provider's object: not this file's
                raise Unattributed(f": {exc}") from None
            raise ValueError(f": {exc}") from None

    got = attributed(query, objects, source, offline=offline, wanted=full, shown=full,
                     identify=identify)
    if isinstance(got, CollectedObject):
        return got
    found, head = got
    if not found:
        return nothing_found(query, head, offline=offline, what=full, cmdlet="Get-Acl",
                             export=f"Get-Acl -LiteralPath '{full}'")
    if any(sd != found[0] for sd in found[1:]):
        return collected_error(query, f"{source}: {len(found)} objects name {full} with different "
                             "security descriptors; none is compared")
    sd = found[0]
    if op == "equals":
        try:
            sids = [canonical_sid(pattern)]
        except AclError as exc:
            return collected_error(query, f"trustee_sid {pattern!r}: {exc}")
    else:   # a NULL DACL names no trustee but gives Everyone every right: Everyone's item
        named = trustees(sd) if sd.dacl is not None or not sd.dacl_present else [EVERYONE]
        sids = [s for s in named if re.search(pattern, s)]
    items = []
    for sid in sids:
        try:
            rights = effective_rights(sd, sid, directory=kind == "directory")
        except AclError as exc:
            return collected_error(query, f"{source}: {full}: trustee {sid}: {exc}; none of this "
                                 "object's trustees is compared")
        who = account_name(sid)
        entities = [ItemEntity("filepath", full), ItemEntity("path", folder if name else full),
                    ItemEntity("filename", name or None), ItemEntity("trustee_sid", sid)]
        if who:
            entities.append(ItemEntity("trustee_name", who))
        entities += [ItemEntity(k, "true" if v else "false", "boolean")
                     for k, v in rights.entities().items()]
        entities.append(ItemEntity("windows_view", "64_bit"))
        items.append(WinItem("fileeffectiverights", tuple(entities)))
    if not items:
        return CollectedObject(query, flag="does not exist", status="does not exist",
                               messages=[head, f"no trustee of {full}'s DACL matches "
                                               f"{pattern!r}"])
    return CollectedObject(query, flag="complete", status="exists",
                           messages=[head, f"{full}: {len(items)} trustee(s), owner "
                                           f"{sd.owner or 'not given'}"], items=items)



__all__ = ["file_rights_result"]
