"""Read the `win-def:cmdlet_object`s of OVAL content → what a collector must ask the host.

Accepts a parsed `oval_definitions` document or a SCAP source data stream (every OVAL
component in it, e.g. the compliance OVAL and the CPE inventory OVAL). Pure: parsed tree in,
`CmdletObjects` out. Used by the offline collector and the live WinRM collector alike.

An object this collector cannot honour (an `oval-def:set`, a `var_ref` on an entity, a
`filter`, an operation other than `equals`) is returned in `unsupported` with the reason, so
the caller can flag it `error` instead of guessing.
"""

from __future__ import annotations

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


def read_cmdlet_objects(root: etree._Element) -> CmdletObjects:
    """Every `win-def:cmdlet_object` in the document, in document order."""
    result = CmdletObjects()
    seen: dict[str, CmdletQuery] = {}
    for defs in _definitions_roots(root):
        for obj in defs.iter(f"{_W}cmdlet_object"):
            oid = obj.get("id", "")
            try:
                version = int(obj.get("version", "1"))
            except ValueError:
                version = 1
            comment = obj.get("comment")
            problem: str | None = None
            module_el = obj.find(f"{_W}module_name")
            module = None if module_el is None or _is_nil(module_el) else _text(module_el)
            verb = _text(obj.find(f"{_W}verb"))
            noun = _text(obj.find(f"{_W}noun"))
            params: list[tuple[str, str]] = []
            param_types: list[str] = []
            select: list[str] = []
            if obj.find(f"{_D}set") is not None:
                problem = "object is an oval-def:set, which the collector does not expand"
            if obj.find(f"{_D}filter") is not None:
                problem = "object has an oval-def:filter, which the collector does not apply"
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
