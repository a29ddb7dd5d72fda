r"""Read the `win-def:cmdlet_object`s (and `win-def:registry_object`s and
`win-def:fileeffectiverights53_object`s) of OVAL content → what a collector must ask the host.

A registry_object becomes the query `Get-ItemProperty -LiteralPath Registry::<hive>\<key>`
(kind "registry", target (hive, key, name)): built from the object's entities as a command
with one literal parameter, never as script text, and checked by the same Get-only rule.
A fileeffectiverights53_object likewise becomes `Get-Acl -LiteralPath <file or directory>`
(kind "fileeffectiverights", the name of the item it is collected as), and a file_object
`Get-Item -LiteralPath <file or directory>` (kind "file"). Only local paths are ever sent.

Accepts a parsed `oval_definitions` document or a SCAP source data stream (every OVAL
component in it, e.g. the compliance OVAL and the CPE inventory OVAL). Pure: parsed tree in,
`CmdletObjects` out. Used by the offline collector and the live WinRM collector alike.

An object this collector cannot honour (an `oval-def:set`, a `var_ref` on an entity, a
`filter`, an operation other than `equals`) is returned in `unsupported` with the reason, so
the caller can flag it `error` instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from stigscap.schemas import namespaces as ns
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import element_text

from ..collect.model import CmdletQuery, cmdlet_name  # noqa: F401 (re-exported)

_D = f"{{{ns.OVAL_DEF}}}"
_W = f"{{{ns.WIN_DEF}}}"
_XSI_NIL = f"{{{ns.XSI}}}nil"


@dataclass
class CmdletObjects:
    queries: list[CmdletQuery] = field(default_factory=list)
    unsupported: list[tuple[CmdletQuery, str]] = field(default_factory=list)

    def all(self) -> list[tuple[CmdletQuery, str | None]]:
        """Every object in document order with its problem (None = collectable)."""
        out = [(q, None) for q in self.queries] + list(self.unsupported)
        order = {id(q): i for i, q in enumerate(self._order)}
        return sorted(out, key=lambda pair: order.get(id(pair[0]), 0))

    _order: list[CmdletQuery] = field(default_factory=list, repr=False)


def _definitions_roots(root: etree._Element) -> list[etree._Element]:
    if root.tag == f"{_D}oval_definitions":
        return [root]
    if root.tag == f"{{{ns.DS}}}data-stream-collection":
        found = root.findall(f"{{{ns.DS}}}component/{_D}oval_definitions")
        if not found:
            raise StigscapError("the source data stream has no OVAL component")
        return found
    raise StigscapError(f"expected an OVAL definitions document or a SCAP source data "
                        f"stream, found <{etree.QName(root).localname}>")


def _is_nil(el: etree._Element) -> bool:
    return el.get(_XSI_NIL, "").strip() in ("true", "1")


def _text(el: etree._Element | None) -> str:
    return "" if el is None else (element_text(el) or "")


def _entity_problem(el: etree._Element, name: str) -> str | None:
    if el.get("var_ref"):
        return f"{name} uses var_ref, which the collector does not resolve"
    op = el.get("operation", "equals")
    if op != "equals":
        return f"{name} uses operation {op!r}; only 'equals' is supported"
    return None


def _set_or_filter(obj: etree._Element) -> str | None:
    if obj.find(f"{_D}set") is not None:
        return "object is an oval-def:set, which the collector does not expand"
    if obj.find(f"{_D}filter") is not None:
        return "object has an oval-def:filter, which the collector does not apply"
    return None


def _behaviors_problem(obj: etree._Element, allowed: dict[str, str], reads: str) -> str | None:
    """Behaviors other than the collector's own reading (`allowed`: name → value) are not
    honoured: the object is not collected rather than collected differently."""
    beh = obj.find(f"{_W}behaviors")
    extra = sorted(k for k, v in beh.attrib.items() if allowed.get(k) != v) \
        if beh is not None else []
    if extra:
        return (f"behaviors {', '.join(extra)} are not supported (the collector reads "
                f"{reads})")
    return None


# the registry hives OVAL names (EntityObjectRegistryHiveType), as the Registry provider
# spells them in a provider-qualified path (Registry::HKEY_LOCAL_MACHINE\...)
REGISTRY_HIVES = ("HKEY_CLASSES_ROOT", "HKEY_CURRENT_CONFIG", "HKEY_CURRENT_USER",
                  "HKEY_LOCAL_MACHINE", "HKEY_USERS")
_CONTROL = frozenset(chr(c) for c in range(32)) | {"\x7f"}


def registry_path(hive: str, key: str) -> str:
    """The provider-qualified path Get-ItemProperty -LiteralPath takes for hive + key."""
    return f"Registry::{hive}\\{key}" if key else f"Registry::{hive}"


def _registry_query(obj: etree._Element, oid: str, version: int, comment: str | None
                    ) -> tuple[CmdletQuery, str | None]:
    problem = _set_or_filter(obj) or _behaviors_problem(
        obj, {"windows_view": "64_bit"}, "one value, in the 64-bit view")
    values: dict[str, str] = {}
    for label in ("hive", "key", "name"):
        el = obj.find(f"{_W}{label}")
        if el is None or _is_nil(el):
            problem = problem or (f"registry {label} is missing or nil; the collector reads one "
                                  "named value of one key")
            values[label] = ""
            continue
        problem = problem or _entity_problem(el, label)
        text = _text(el)
        if any(ch in _CONTROL for ch in text):
            problem = problem or f"registry {label} holds a control character"
        values[label] = text
    hive, key, name = values["hive"], values["key"].strip("\\"), values["name"]
    if hive and hive not in REGISTRY_HIVES:
        problem = problem or f"registry hive {hive!r} is not one OVAL names"
    query = CmdletQuery(object_id=oid, module_name=None, verb="Get", noun="ItemProperty",
                        parameters=(("LiteralPath", registry_path(hive, key)),),
                        version=version, comment=comment, kind="registry",
                        target=(hive, key, name))
    return query, problem


def _cmdlet_query(obj: etree._Element, oid: str, version: int, comment: str | None
                  ) -> tuple[CmdletQuery, str | None]:
    module_el = obj.find(f"{_W}module_name")
    module = None if module_el is None or _is_nil(module_el) else _text(module_el)
    verb = _text(obj.find(f"{_W}verb"))
    noun = _text(obj.find(f"{_W}noun"))
    params: list[tuple[str, str]] = []
    param_types: list[str] = []
    select: list[str] = []
    problem = _set_or_filter(obj)
    for tag, label in ((f"{_W}module_name", "module_name"), (f"{_W}verb", "verb"),
                       (f"{_W}noun", "noun")):
        el = obj.find(tag)
        if el is not None:
            problem = problem or _entity_problem(el, label)
    for tag, label in ((f"{_W}module_id", "module_id"),
                       (f"{_W}module_version", "module_version")):
        el = obj.find(tag)
        if el is not None and not _is_nil(el) and _text(el).strip():
            # the collector loads modules by name only: it cannot honour a module id or
            # version, so it must not claim to have collected from that module
            problem = problem or (f"{label} {_text(el).strip()!r} is set; the collector "
                                  "selects modules by name only")
    p_el = obj.find(f"{_W}parameters")
    if p_el is not None and not _is_nil(p_el):
        problem = problem or _entity_problem(p_el, "parameters")
        for f in p_el.findall(f"{_D}field"):
            problem = problem or _entity_problem(f, f"parameter {f.get('name')}")
            params.append((f.get("name", ""), _text(f)))
            param_types.append(f.get("datatype") or "string")
    s_el = obj.find(f"{_W}select")
    if s_el is not None and not _is_nil(s_el):
        problem = problem or _entity_problem(s_el, "select")
        for f in s_el.findall(f"{_D}field"):
            problem = problem or _entity_problem(f, f"select {f.get('name')}")
            prop = _text(f).strip() or f.get("name", "")
            if prop == "*":
                problem = problem or "select '*' is not permitted by OVAL"
            select.append(prop)
    if not verb or not noun:
        problem = problem or "object has no verb or noun"
    query = CmdletQuery(object_id=oid, module_name=module, verb=verb, noun=noun,
                        parameters=tuple(params), select=tuple(select),
                        version=version, comment=comment,
                        parameter_datatypes=tuple(param_types))
    return query, problem


_LOCAL_PATH = re.compile(r"[A-Za-z]:\\[^:*?\"<>|/]*")
# behaviors a file-rights object may carry with the collector's reading (groups listed as
# trustees of their own, never resolved to members; one file or directory, no recursion)
_RIGHTS_BEHAVIORS = {"windows_view": "64_bit", "include_group": "true", "resolve_group": "false"}


def _file_target(obj: etree._Element, behaviors: dict[str, str], reads: str
                 ) -> tuple[tuple[str, str, str, bool], str | None]:
    """((folder, file name or "", full path, is a directory), problem) of a file-system
    object: filepath, or path + filename (nil: the directory itself); behaviors other than
    `behaviors` (the collector's own reading), a non-equals or var_ref entity, or a path that
    is not local are problems."""
    problem = _set_or_filter(obj) or _behaviors_problem(obj, behaviors, reads)
    fp, path_el, name_el = (obj.find(f"{_W}{n}") for n in ("filepath", "path", "filename"))
    for label, el in (("filepath", fp), ("path", path_el), ("filename", name_el)):
        if el is not None and not (label == "filename" and _is_nil(el)):
            problem = problem or _entity_problem(el, label)
    directory = False
    if fp is not None:
        full = _text(fp)
        folder, _, name = full.rpartition("\\")
    elif path_el is not None and name_el is not None:
        folder = _text(path_el).rstrip("\\")
        directory = _is_nil(name_el)
        name = "" if directory else _text(name_el)
        full = folder if directory else f"{folder}\\{name}"
    else:
        folder = name = full = ""
        problem = problem or "the object names no filepath or path and filename"
    return (folder, name, full, directory), problem or _local_path_problem(full)


def _rights_query(obj: etree._Element, oid: str, version: int, comment: str | None
                  ) -> tuple[CmdletQuery, str | None]:
    """A fileeffectiverights53_object: one file (path + filename, or filepath) or one
    directory (path, filename nil), its trustees by SID (equals) or all the DACL names whose
    SID matches (pattern match) → Get-Acl -LiteralPath <file or directory>."""
    (folder, name, full, directory), problem = _file_target(
        obj, _RIGHTS_BEHAVIORS, "one file or directory, groups as trustees")
    trustee = obj.find(f"{_W}trustee_sid")
    if trustee is not None and not (trustee.get("operation") == "pattern match"
                                    and not trustee.get("var_ref")):
        problem = problem or _entity_problem(trustee, "trustee_sid")
    if trustee is None:
        problem = problem or "the object has no trustee_sid"
    op = (trustee.get("operation") or "equals") if trustee is not None else "equals"
    sid = _text(trustee) if trustee is not None else ""
    if op == "pattern match":
        try:
            re.compile(sid)
        except re.error as exc:
            problem = problem or f"trustee_sid pattern {sid!r} is not a regular expression: {exc}"
    query = CmdletQuery(object_id=oid, module_name=None, verb="Get", noun="Acl",
                        parameters=(("LiteralPath", full),), version=version, comment=comment,
                        kind="fileeffectiverights",
                        target=(folder, name, "directory" if directory else "file", op, sid))
    return query, problem


def _file_query(obj: etree._Element, oid: str, version: int, comment: str | None
                ) -> tuple[CmdletQuery, str | None]:
    """A file_object: one file (path + filename, or filepath) or one directory (path,
    filename nil) → Get-Item -LiteralPath <file or directory>."""
    (folder, name, full, directory), problem = _file_target(
        obj, {"windows_view": "64_bit"}, "one file or directory")
    query = CmdletQuery(object_id=oid, module_name=None, verb="Get", noun="Item",
                        parameters=(("LiteralPath", full),), version=version, comment=comment,
                        kind="file", target=(folder, name, "directory" if directory else "file"))
    return query, problem


def _local_path_problem(full: str) -> str | None:
    if any(ch in _CONTROL for ch in full) or not full:
        return "the file path is empty or holds a control character"
    if not _LOCAL_PATH.fullmatch(full):
        # a UNC (\\host\share), device (\\.\, \\?\) or stream (file:stream) path would
        # make the host open something else than a local file, or authenticate to another host
        return (f"{full!r} is not a local path (drive letter, backslashes, no ':' after the "
                "drive): it is not sent")
    return None


def read_cmdlet_objects(root: etree._Element) -> CmdletObjects:
    """Every `win-def:cmdlet_object` and `win-def:registry_object` in the document, in
    document order."""
    result = CmdletObjects()
    seen: dict[str, CmdletQuery] = {}
    for defs in _definitions_roots(root):
        for obj in defs.iter(f"{_W}cmdlet_object", f"{_W}registry_object",
                             f"{_W}fileeffectiverights53_object", f"{_W}file_object"):
            oid = obj.get("id", "")
            try:
                version = int(obj.get("version", "1"))
            except ValueError:
                version = 1
            read = {f"{_W}registry_object": _registry_query,
                    f"{_W}fileeffectiverights53_object": _rights_query,
                    f"{_W}file_object": _file_query}.get(str(obj.tag),
                                                                            _cmdlet_query)
            query, problem = read(obj, oid, version, obj.get("comment"))
            if oid in seen:
                if seen[oid] != query:
                    raise StigscapError(f"OVAL object {oid} is defined twice with different "
                                        "content")
                continue
            seen[oid] = query
            result._order.append(query)
            if problem:
                result.unsupported.append((query, problem))
            else:
                result.queries.append(query)
    return result
