"""A-26 default attributes from a cached table: the table (plain data, built once from the
schemas with xmlschema) gives the same attributes as reading the schemas the way a validator
matches elements, and a cached table is used without importing xmlschema (which, with the
schema set it unpickled, cost more than the rest of signing a 24 MB stream)."""

from __future__ import annotations

import os
import subprocess
import sys

from lxml import etree

from stigscap.evaluator.signing import defaults
from stigscap.evaluator.signing.signer import _signed_collection
from stigscap.schemas.xmlio import parse_xml_file, serialize
from tests.cli_helpers import stigscap
from tests.conftest import REPO


def _reference_fill(root: etree._Element, schema, skip=None) -> int:
    """Default filling straight from xmlschema's components: for each child, the first element
    particle of the parent type's content model that `is_matching` its name (a substitution
    group member read through its own global declaration), else the global declaration;
    xsi:type wins; every absent default or fixed attribute is written."""
    maps = schema.maps
    added = 0

    def type_of(el, decl):
        xsi = el.get(defaults.XSI_TYPE)
        if xsi:
            prefix, _, local = xsi.rpartition(":")
            uri = el.nsmap.get(prefix or None)
            t = maps.types.get(f"{{{uri}}}{local}" if uri else local)
            if t is not None:
                return t
        return decl.type if decl is not None else None

    def child_decl(xsd_type, tag):
        content = getattr(xsd_type, "content", None)
        if content is None or not hasattr(content, "iter_elements"):
            return maps.elements.get(tag)
        for item in content.iter_elements():
            if getattr(item, "name", None) is not None and item.is_matching(tag):
                return item if item.name == tag else maps.elements.get(tag, item)
        return maps.elements.get(tag)

    stack = [(root, maps.elements.get(root.tag))]
    while stack:
        el, decl = stack.pop()
        xsd_type = type_of(el, decl)
        for name, attr in (getattr(xsd_type, "attributes", None) or {}).items():
            value = attr.fixed if attr.fixed is not None else attr.default
            if name and value is not None and name not in el.attrib:
                el.set(name, value)
                added += 1
        for child in el:
            if isinstance(child.tag, str) and not (skip is not None and skip(child)):
                stack.append((child, child_decl(xsd_type, child.tag) if xsd_type is not None
                              else maps.elements.get(child.tag)))
    return added


def test_table_gives_what_the_schema_components_give(work, our_arf, our_sds, signed_sds,
                                                     tmp_path):
    """Our ARF holds every namespace stigscap writes (ARF, reporting core, asset
    identification, XCCDF results, OVAL definitions/results/system characteristics, the data
    stream it embeds); our data stream is filled with the same table, and an ARF embedding a
    signed data stream is filled around it (skipped)."""
    arf_signed_ds = tmp_path / "arf-signed-ds.xml"
    run = stigscap("eval", signed_sds, "--profile", "MAC-1_Classified",
                   "--system-characteristics", work / "example-sc.xml", "--results-arf",
                   arf_signed_ds, "-q")
    assert run.rc == 2, run.err
    arf = parse_xml_file(our_arf).getroot()
    present = {etree.QName(el).namespace for el in arf.iter(etree.Element)}
    wanted = frozenset(n for n in present if n in defaults._locations())
    schema = defaults._build_schema(wanted)
    table = defaults.build_table(schema)
    assert len(table.types) > 500 and table.elements and table.named
    for path, skip in ((our_arf, None), (arf_signed_ds, _signed_collection), (our_sds, None)):
        ours, theirs = parse_xml_file(path), parse_xml_file(path)
        n_ours = defaults.fill_with_table(ours.getroot(), table, skip=skip)
        n_theirs = _reference_fill(theirs.getroot(), schema, skip=skip)
        assert n_ours == n_theirs > 100, path
        assert serialize(ours) == serialize(theirs)


def test_cached_table_is_used_without_xmlschema(our_sds, tmp_path):
    env = {**os.environ, "STIGSCAP_CACHE_DIR": str(tmp_path / "cache")}
    code = ("import sys; from stigscap.evaluator.signing.defaults import fill_default_attributes;"
            "from stigscap.schemas.xmlio import parse_xml_file, serialize;"
            "t = parse_xml_file(sys.argv[1]); n = fill_default_attributes(t.getroot());"
            "print(n, 'xmlschema' in sys.modules, len(serialize(t)))")
    first = subprocess.run([sys.executable, "-c", code, str(our_sds)], capture_output=True,
                           text=True, env=env, cwd=REPO)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([sys.executable, "-c", code, str(our_sds)], capture_output=True,
                            text=True, env=env, cwd=REPO)
    assert second.returncode == 0, second.stderr
    n1, imported1, size1 = first.stdout.split()
    n2, imported2, size2 = second.stdout.split()
    assert imported1 == "True" and imported2 == "False"   # built once, then only read
    assert int(n1) == int(n2) > 100 and size1 == size2
    assert len(list((tmp_path / "cache").glob("defaults-table-*.pickle"))) == 1


def test_a_cached_table_others_could_write_is_not_loaded(our_sds, tmp_path):
    """The table is a pickle, which runs code when loaded: a cached one that is group- or
    world-writable (or in such a directory) is built again instead of being loaded."""
    env = {**os.environ, "STIGSCAP_CACHE_DIR": str(tmp_path / "cache")}
    code = ("import sys; from stigscap.evaluator.signing.defaults import fill_default_attributes;"
            "from stigscap.schemas.xmlio import parse_xml_file;"
            "fill_default_attributes(parse_xml_file(sys.argv[1]).getroot());"
            "print('xmlschema' in sys.modules)")

    def run() -> str:
        done = subprocess.run([sys.executable, "-c", code, str(our_sds)], capture_output=True,
                              text=True, env=env, cwd=REPO)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert run() == "True"                        # built and cached
    assert run() == "False"                       # loaded
    (pickled,) = (tmp_path / "cache").glob("defaults-table-*.pickle")
    pickled.chmod(0o666)
    assert run() == "True"                        # not loaded: built again
    pickled.chmod(0o600)
    (tmp_path / "cache").chmod(0o777)
    assert run() == "True"

