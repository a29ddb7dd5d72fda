"""System characteristics read item by item (results/syschar_stream.py) give exactly what the
whole tree gives: definition, test and item results, evidence, and the bytes of the OVAL
results document (`oval-analyse`, `eval --oval-results`: the syschar deep-copied) and of the
ARF (the syschar serialized in place) — on the differential matrix, the project's own content
with the collector's output, and documents shaped oddly on purpose. What the item-by-item path
cannot reproduce falls back to the whole tree (same output), and while streaming no more than
the item at hand is held."""

from __future__ import annotations

import os
import re

import pytest
from lxml import etree

import tests.oval.ovalcases_matrix as M
import tests.oval.test_oval_local_variables as LV
from stigscap.evaluator.oval.engine import compile_definitions
from stigscap.evaluator.oval.results import build_results_document, results_text
from stigscap.evaluator.results import syschar_stream as S
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write, parse_xml_bytes, serialize, stream_xml_file
from tests.oval.ovalcases_builder import (F, P, State, Test, cmdlet_item, cmdlet_object,
                                          collected, connector, criteria, criterion, definition,
                                          definitions_doc, syschar_doc)

TS = "2026-01-01T00:00:00"
OVAL_SC = "http://oval.mitre.org/XMLSchema/oval-system-characteristics-5"


def _tree(defs: bytes, sc: bytes, variables, directives: str = "full"):
    compiled = compile_definitions(etree.fromstring(defs))
    ev = compiled.evaluate(etree.fromstring(sc), variables)
    doc = serialize(build_results_document(ev, directives=directives, timestamp=TS))
    text = results_text(ev, directives=directives, timestamp=TS).encode()
    return ev, doc, text


def _stream(tmp_path, defs: bytes, sc: bytes, variables, directives: str = "full",
            forms=(S.FORM_COPIED, S.FORM_INPLACE), explain: bool = True,
            chunk_size: int = 1 << 20):
    path = tmp_path / "sc.xml"
    path.write_bytes(sc)
    compiled = compile_definitions(etree.fromstring(defs))
    streamed, (ev,) = S.stream_syschar(
        str(path), lambda root: [compiled.start_stream(root, variables, explain=explain)],
        tags=S.item_tags([compiled]), forms=forms, chunk_size=chunk_size)
    doc = b"".join(streamed.expand(
        serialize(build_results_document(ev, directives=directives, timestamp=TS)),
        S.FORM_COPIED)) if S.FORM_COPIED in forms or directives == "thin" else None
    text = b"".join(streamed.expand(
        results_text(ev, directives=directives, timestamp=TS).encode(), S.FORM_INPLACE)) \
        if S.FORM_INPLACE in forms or directives == "thin" else None
    return ev, doc, text, streamed


def _indented(sc: bytes) -> bytes:
    """The same document with the whitespace a writer like ours puts between elements."""
    root = etree.fromstring(sc)
    etree.indent(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _same_evaluation(a, b):
    assert a.definition_results == b.definition_results
    assert a.definition_messages == b.definition_messages
    assert {t: (r.result, r.tested_items, r.messages) for t, r in a.test_results.items()} == \
        {t: (r.result, r.tested_items, r.messages) for t, r in b.test_results.items()}
    for def_id in a.definition_results:
        assert _evidence(a, def_id) == _evidence(b, def_id), def_id


def _evidence(ev, def_id):
    try:
        return ev.evidence(def_id)
    except StigscapError as exc:   # the same refusal either way (a record read as a value)
        return ("refused", exc.message, exc.line)


@pytest.fixture(scope="module")
def matrix():
    return M.build(n_trees=120)


@pytest.mark.parametrize("value", [[M.EXACT], [M.INCLUDES], [M.EXACT, M.INCLUDES]])
def test_matrix_streamed_equals_whole_tree(matrix, tmp_path, value):
    """Every scenario, check, existence, state and criteria tree of the differential suite:
    results, evidence (including the items explained only when asked: the loader parses them
    again) and both serializations, full and thin, byte for byte."""
    variables = {M.VAR: value}
    sc = _indented(matrix.syschar)
    for directives, chunk_size in (("full", 1 << 20), ("thin", 1 << 20), ("full", 333)):
        tree_ev, tree_doc, tree_text = _tree(matrix.defs, sc, variables, directives)
        ev, doc, text, streamed = _stream(tmp_path, matrix.defs, sc, variables, directives,
                                          chunk_size=chunk_size)
        loads = []
        loader = ev.loader
        ev.loader = lambda ids: (loads.append(list(ids)), loader(ids))[1]
        _same_evaluation(ev, tree_ev)
        assert doc == tree_doc and text == tree_text
        assert loads, "no evidence needed an item again: the reload path went untested"
        streamed.close()


def test_compact_document_streams_in_place_but_copies_through_the_whole_tree(matrix, tmp_path):
    """Without text between the document element's children the results writer would indent
    the copy (pretty printing): only the in-place form streams; the copy needs the tree."""
    variables = {M.VAR: [M.EXACT]}
    tree_ev, _doc, tree_text = _tree(matrix.defs, matrix.syschar, variables)
    ev, _d, text, streamed = _stream(tmp_path, matrix.defs, matrix.syschar, variables,
                                     forms=(S.FORM_INPLACE,))
    _same_evaluation(ev, tree_ev)
    assert text == tree_text
    streamed.close()
    with pytest.raises(S.NotStreamable, match="no text between"):
        _stream(tmp_path, matrix.defs, matrix.syschar, variables, forms=(S.FORM_COPIED,))


# ------------------------------------------------------------------ oddly shaped documents
OBJ, TST, STE, DEF = f"{P}:obj:1", f"{P}:tst:1", f"{P}:ste:1", f"{P}:def:1"
DEFS = definitions_doc(
    [definition(DEF, criteria("AND", criterion(TST))),
     definition(f"{P}:def:2", criteria("AND", criterion(f"{P}:tst:2", negate=True)))],
    [Test(TST, OBJ, [STE]).xml(), Test(f"{P}:tst:2", OBJ, [STE], check="at least one").xml()],
    [cmdlet_object(OBJ)], [State(STE, [F("authmechanism", "Tls")]).xml()], [])

W = "http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows"
ITEM = ('<win-sc:cmdlet_item id="{id}" status="exists">{pre}'
        '<win-sc:verb>Get</win-sc:verb><win-sc:noun>ReceiveConnector</win-sc:noun>'
        '<win-sc:value datatype="record">'
        '<oval-sc:field name="name" datatype="string">{name}</oval-sc:field>'
        '<oval-sc:field name="authmechanism" datatype="string">{auth}</oval-sc:field>'
        '</win-sc:value></win-sc:cmdlet_item>')


def _doc(items: str, *, decls: str = "", collected_ids=(1,), between: str = "\n",
         tail: str = "\n") -> bytes:
    refs = "".join(f'<reference item_ref="{i}"/>' for i in collected_ids)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<oval_system_characteristics '
            f'xmlns="{OVAL_SC}" xmlns:oval-sc="{OVAL_SC}" xmlns:win-sc="{W}" '
            f'xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"{decls}>{between}'
            '<generator><oval:product_name>t</oval:product_name><oval:schema_version>5.11.2'
            '</oval:schema_version><oval:timestamp>2026-01-01T00:00:00</oval:timestamp>'
            f'</generator>{between}<system_info><os_name>W</os_name><os_version/>'
            '<architecture>x</architecture><primary_host_name>h</primary_host_name><interfaces/>'
            f'</system_info>{between}<collected_objects><object id="{OBJ}" version="1" '
            f'flag="complete">{refs}</object></collected_objects>{between}'
            f'<system_data>{items}</system_data>{tail}</oval_system_characteristics>\n'
            ).encode()


ODD = {
    "comments and PIs between and inside items, CR and markup characters": _doc(
        '\n  <!-- a comment -->\r\n  <?pi data?>'
        + ITEM.format(id=1, pre="<!--in-->\n", name="a &amp; b &lt;c&gt;&#13;", auth="Tls")
        + "\n  <!--after--> &amp; &gt; text\n"),
    "items on one line, no blanks": _doc(
        ITEM.format(id=1, pre="", name="x", auth="None")
        + ITEM.format(id=2, pre="", name="y", auth="Tls"), collected_ids=(1, 2), between=""
        ) .replace(b"<generator>", b" <generator>"),
    "an error item with messages": _doc(
        '<win-sc:cmdlet_item id="1" status="error"><oval-sc:message level="error">'
        'access &lt;denied&gt;</oval-sc:message><win-sc:verb>Get</win-sc:verb>'
        '</win-sc:cmdlet_item>'),
    "unprefixed elements inside an item (renamed by the copy)": _doc(
        ITEM.format(id=1, pre='<message level="info">read</message>', name="n", auth="None")
        .replace("oval-sc:field", "field")),
    "another prefix for the system-characteristics namespace": _doc(
        ITEM.format(id=1, pre="", name="n", auth="None").replace("oval-sc:field", "sc:field"),
        decls=f' xmlns:sc="{OVAL_SC}"'),
    "an item kind the content does not ask for, and an unused namespace": _doc(
        '\n<win-sc:registry_item id="9" status="exists"><win-sc:hive>HKLM</win-sc:hive>'
        '</win-sc:registry_item>\n' + ITEM.format(id=1, pre="", name="n", auth="Tls") + "\n",
        decls=' xmlns:u="urn:unused"'),
    "empty system_data": _doc("", collected_ids=()),
    "only blanks in system_data": _doc("\n  \n", collected_ids=()),
    "an item referenced but missing": _doc(ITEM.format(id=1, pre="", name="n", auth="Tls"),
                                           collected_ids=(1, 7)),
    "no system_data": _doc("").replace(b"<system_data></system_data>", b""),
}


@pytest.mark.parametrize("name", list(ODD))
def test_odd_documents_streamed_equal_whole_tree(tmp_path, name):
    """Also read in pieces of a few bytes: an item's end is then often reported before its
    tail (or the next item) is parsed, or after."""
    sc = ODD[name]
    tree_ev, tree_doc, tree_text = _tree(DEFS, sc, {})
    for chunk_size in (1 << 20, 5, 17, 64):
        ev, doc, text, streamed = _stream(tmp_path, DEFS, sc, {}, chunk_size=chunk_size)
        _same_evaluation(ev, tree_ev)
        assert doc == tree_doc, chunk_size
        assert text == tree_text, chunk_size
        streamed.close()


@pytest.mark.parametrize("sc, reason", [
    (_doc(ITEM.format(id=1, pre="", name="n", auth="Tls").replace(
        'id="1"', 'xmlns:q="urn:q" id="1"')), "below the document element"),
    (_doc(ITEM.format(id=1, pre="", name="n", auth="Tls") * 2), "two items with id"),
    (_doc(ITEM.format(id=1, pre="", name="n", auth="Tls")).replace(
        b"<collected_objects>", b"<collected_objectz>").replace(
        b"</collected_objects>", b"</collected_objectz>"), "collected_objects"),
    (_doc(ITEM.format(id=1, pre='<oval-sc:message level="info">a<?pi x?>b</oval-sc:message>',
                      name="n", auth="Tls")), "message"),
    (_doc(ITEM.format(id=1, pre="", name="n", auth="T<?pi x?>ls")), "may contain only text"),
    (_doc("").replace(b"oval_system_characteristics", b"other"), "not an OVAL"),
    (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "/etc/passwd">]>\n<x/>', "DTD"),
    (_doc(ITEM.format(id=1, pre="", name="n", auth="Tls"))[:-60], "not well-formed"),
])
def test_what_cannot_stream_says_why_and_the_whole_tree_takes_over(tmp_path, sc, reason):
    with pytest.raises(S.NotStreamable, match=reason):
        _stream(tmp_path, DEFS, sc, {})
    # the command's path: the whole tree then gives its usual answer (or its usual error)
    path = tmp_path / "sc.xml"
    compiled = compile_definitions(etree.fromstring(DEFS))
    try:
        expected = compiled.evaluate(parse_xml_bytes(sc).getroot(), {}).definition_results
    except StigscapError as exc:
        with pytest.raises(StigscapError) as got:
            S.analyse_file(compiled, str(path), {}, whole=lambda: parse_xml_bytes(sc).getroot(),
                           forms=[S.FORM_COPIED])
        assert got.value.message == exc.message
        return
    ev, streamed = S.analyse_file(compiled, str(path), {},
                                  whole=lambda: parse_xml_bytes(sc).getroot(),
                                  forms=[S.FORM_COPIED])
    assert streamed is None
    assert ev.definition_results == expected


def test_masked_content_is_not_streamed_but_object_components_are():
    extra = (f'<local_variable id="{P}:var:9" datatype="string" version="1" comment="c">'
             f'<object_component object_ref="{OBJ}" item_field="value" record_field="name"/>'
             "</local_variable>")
    defs = DEFS.replace(b"</oval_definitions>",
                        f"<variables>{extra}</variables></oval_definitions>".encode())
    assert compile_definitions(etree.fromstring(defs)).stream_problem() is None
    masked = definitions_doc([definition(DEF, criteria("AND", criterion(TST)))],
                             [Test(TST, OBJ, [STE]).xml()], [cmdlet_object(OBJ)],
                             [State(STE, [F("authmechanism", "Tls", mask=True)]).xml()], [])
    compiled = compile_definitions(etree.fromstring(masked))
    assert "masked" in compiled.stream_problem()
    with pytest.raises(ValueError, match="cannot stream"):
        compiled.start_stream(etree.fromstring(ODD["empty system_data"]))


# ------------------------------------------------------------------ object_component variables
def _component_docs(order: str) -> bytes:
    """tests/oval/test_oval_local_variables' host: the tests look at item 1 (object 1), the
    object_component variables read object 2's items, placed after or before item 1, missing,
    in error, or not collected at all."""
    recs1 = [[("authmechanism", "Tls"), ("count", "2", "int")],
             [("authmechanism", "Tls, ExchangeServer"), ("count", "2", "int")]]
    read = [connector("B", "Tls"), connector("C", "Tls, ExchangeServer"), connector("D", "Tls")]
    item1, item2 = cmdlet_item(1, recs1), cmdlet_item(2, read)
    objects = [collected(LV.O, "complete", [1]), collected(LV.O2, "complete", [2])]
    items = {"after": [item1, item2], "before": [item2, item1], "missing": [item1],
             "error": [item1, cmdlet_item(2, [], status="error", message="access denied")],
             "between": [cmdlet_item(3, read), item1, cmdlet_item(4, [connector("E", "Tls")]),
                         item2]}.get(order)
    if order == "not collected":
        objects, items = [collected(LV.O, "complete", [1]),
                          collected(LV.O2, "does not exist")], [item1]
    if order == "between":   # object 2 collected as items 2 and 4, 3 read by no one
        objects[1] = collected(LV.O2, "complete", [4, 2])
    return _indented(syschar_doc(objects, items))


@pytest.mark.parametrize("order", ["after", "before", "missing", "error", "not collected",
                                   "between"])
def test_object_component_variables_stream_in_any_item_order(tmp_path, order):
    """OVAL 5.11.2 object_component: the values of an item entity of the items collected for
    another object, whatever their place in system_data. An item whose tests compare with such
    a variable before the items it reads have gone by is fed again after the last item (from
    a spool of its own: the file is read once); the results, evidence and both serializations
    are the whole tree's, byte for byte."""
    defs, _s = LV._docs()
    sc = _component_docs(order)
    tree_ev, tree_doc, tree_text = _tree(defs, sc, {})
    if order in ("after", "before", "between"):
        assert set(tree_ev.definition_results.values()) >= {"true", "false"}
    compiled = compile_definitions(etree.fromstring(defs))
    path = tmp_path / "sc.xml"
    path.write_bytes(sc)
    for chunk_size in (1 << 20, 29):
        deferred: list[str] = []
        early: list[str] = []

        def start(root):
            ev = compiled.start_stream(root, {})
            try:
                ev.variable_values(f"{P}:var:3")
            except RuntimeError:
                early.append("refused")
            again = ev.feed_deferred

            def counted(item):
                deferred.append(item.get("id"))
                again(item)
            ev.feed_deferred = counted
            return [ev]

        streamed, (ev,) = S.stream_syschar(str(path), start, tags=S.item_tags([compiled]),
                                           forms=(S.FORM_COPIED, S.FORM_INPLACE),
                                           chunk_size=chunk_size)
        _same_evaluation(ev, tree_ev)
        for i in LV.CASES:
            assert ev.variable_values(f"{P}:var:{i}") == tree_ev.variable_values(
                f"{P}:var:{i}"), i
        assert b"".join(streamed.expand(serialize(build_results_document(
            ev, timestamp=TS)), S.FORM_COPIED)) == tree_doc
        assert b"".join(streamed.expand(results_text(ev, timestamp=TS).encode(),
                                        S.FORM_INPLACE)) == tree_text
        streamed.close()
        # deferred: item 1 when object 2's (existing) items come after it; never resolved early
        assert deferred == (["1"] if order in ("after", "missing", "error", "between") else [])
        assert early == (["refused"] if order != "not collected" else [])
    if order == "after":
        assert tree_ev.variable_values(f"{P}:var:3") == (LV.CASES[3][5], None)


def test_only_the_item_at_hand_is_held(tmp_path):
    """While an item is fed, every item before it in the parsed tree has lost its values (and
    at most the one being parsed after it is there)."""
    n = 40
    items = "".join("\n  " + ITEM.format(id=i, pre="", name=f"c{i}", auth="Tls" if i % 3 else
                                         "None") for i in range(1, n + 1)) + "\n"
    sc = _doc(items, collected_ids=range(1, n + 1))
    defs = definitions_doc(
        [definition(DEF, criteria("AND", criterion(TST)))],
        [Test(TST, OBJ, [STE], check="at least one").xml()], [cmdlet_object(OBJ)],
        [State(STE, [F("authmechanism", "Tls")]).xml()], [])
    compiled = compile_definitions(etree.fromstring(defs))
    held = []

    def start(root):
        ev = compiled.start_stream(root, {})
        feed = ev.feed_item

        def watched(item):
            before = []
            sib = item.getprevious()
            while sib is not None:
                before.append(sib)
                sib = sib.getprevious()
            held.append(sum(len(s) for s in before if isinstance(s.tag, str)))
            feed(item)
        ev.feed_item = watched
        return [ev]

    path = tmp_path / "sc.xml"
    path.write_bytes(sc)
    streamed, (ev,) = S.stream_syschar(str(path), start, tags=S.item_tags([compiled]),
                                       forms=[S.FORM_INPLACE], huge_tree=False)
    assert len(held) == n and max(held) == 0
    # the skeleton keeps no item: system_data holds the marker only
    sd = streamed.root.find(f"{{{OVAL_SC}}}system_data")
    assert len(sd) == 1 and sd[0].tag is etree.Comment
    tree_ev = compiled.evaluate(etree.fromstring(sc), {})
    _same_evaluation(ev, tree_ev)
    streamed.close()


def test_serialized_text_escapes_like_libxml2():
    chars = [chr(c) for c in list(range(0x9, 0xB)) + [0xD] + list(range(0x20, 0x3000))
             + [0xFFFD, 0x10000, 0x1F600]]
    text = "".join(chars)
    el = etree.Element("a")
    el.text = text
    assert S._text_bytes(text) == etree.tostring(el, encoding="UTF-8")[3:-4]


# ------------------------------------------------------------------ reader and writer
def test_stream_reader_refuses_like_the_whole_reader(tmp_path):
    cases = {
        "empty.xml": (b"   \n", "empty file"),
        "dtd.xml": (b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "/dev/zero"><r/>', "DTD"),
        "utf16dtd.xml": ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r><r/>'
                         .encode("utf-16"), "DTD"),
        "broken.xml": (b"<r><a></r>", "not well-formed"),
    }
    for name, (data, message) in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(StigscapError, match=message):
            list(stream_xml_file(p, chunk_size=4))
    fifo = tmp_path / "fifo.xml"
    os.mkfifo(fifo)
    with pytest.raises(StigscapError, match="not a regular file"):
        list(stream_xml_file(fifo))
    # a long prolog (comments) read in small pieces, then the document, in UTF-16 too
    for enc in ("utf-8", "utf-16"):
        p = tmp_path / f"ok-{enc}.xml"
        p.write_bytes((f'<?xml version="1.0" encoding="{enc.upper()}"?>' + "<!-- c -->" * 50
                       + "<r><a>1</a><a>2</a></r>").encode(enc))
        got = [el.text for ev, el in stream_xml_file(p, tag="a", chunk_size=7)]
        assert got == ["1", "2"]


def test_atomic_write_of_pieces_leaves_nothing_when_a_piece_fails(tmp_path):
    target = tmp_path / "out.xml"
    atomic_write(target, iter([b"<a>", b"</a>"]))
    assert target.read_bytes() == b"<a></a>"

    def pieces():
        yield b"<b>"
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "other.xml", pieces())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xml"]


def test_copy_rename_detection_is_exact():
    """The copy into an oval_results tree renames the default namespace's elements (to
    oval-sc:); an item without unprefixed elements is copied as written in place."""
    streamer = S._Streamer("x", lambda root: [], [], [S.FORM_COPIED], True)
    streamer.decls = [(None, OVAL_SC), ("oval-sc", OVAL_SC), ("win-sc", W), ("sc", OVAL_SC)]
    streamer.root = etree.fromstring(f'<oval_system_characteristics xmlns="{OVAL_SC}"/>')
    streamer._make_shell(etree.SubElement(streamer.root, f"{{{OVAL_SC}}}system_data"))
    rx = streamer.copy_differs
    assert rx is not None
    assert rx.search(b'<win-sc:cmdlet_item id="1"><oval-sc:field/>') is None
    assert rx.search(b'<win-sc:cmdlet_item id="1"><field name="a"/>')
    assert rx.search(b"<win-sc:x><sc:field/>")
    assert rx.search(b"<message>")
    assert re.fullmatch(rb"</oval-sc:system_data>", streamer.shell_end)
    streamer.out.close()


def test_streamed_items_follow_the_schemas_element_mapping():
    """A fileeffectiverights53_object collects fileeffectiverights_items (OVAL 5.11.2
    element_mapping): the streaming reader must report those, not a made-up
    fileeffectiverights53_item."""
    from stigscap.evaluator.oval.engine import compile_definitions
    from stigscap.evaluator.results.syschar_stream import item_tags

    W = "http://oval.mitre.org/XMLSchema/oval-definitions-5#windows"
    defs = etree.fromstring(f"""<oval_definitions
        xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" xmlns:w="{W}"><objects>
        <w:fileeffectiverights53_object id="oval:t:obj:1" version="1"/>
        <w:registry_object id="oval:t:obj:2" version="1"/></objects></oval_definitions>""")
    sc = "http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows"
    assert item_tags([compile_definitions(defs)]) == [f"{{{sc}}}fileeffectiverights_item",
                                                      f"{{{sc}}}registry_item"]
