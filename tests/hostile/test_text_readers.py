"""Guard: no reader of untrusted XML takes `.text` / `findtext` / `itertext` directly (they stop
at a comment, or skip processing instructions silently); `schemas.xmlio.element_text`,
`find_text` and `all_text` are the readers. The few direct uses left are listed with why."""

from __future__ import annotations

import ast
from collections import Counter

from tests.hostile.hostile_helpers import REPO

ALLOWED = {
    # the helpers themselves
    "schemas/xmlio.py": 3,
    # CLIXML is parsed with remove_comments/remove_pis, so .text is already the whole text (7:
    # also the type names and a property's text in the reader's fast path); `Normalized`
    # values, not XML (2: a property's first value, a binding's address)
    "evaluator/collect/offline.py": 9,
    # pypsrp's xml.etree (stdlib) objects from the WinRM peer: the stdlib tree builder drops
    # comments and processing instructions, so .text is whole
    "evaluator/collect/pypsrp_compat.py": 2,
    # `Normalized` / `FieldValue` values, not XML (one more: the fields memo)
    "evaluator/collect/normalize.py": 5,
    # element_text's own fast path inlined (a field without children: .text is whole), in
    # _record_fast and in the streamed per-item path
    "evaluator/oval/engine.py": 2,
    # validation findings (issue 13): texts quoted in messages and compared with what the
    # SCAP 1.3 requirements allow; they decide no compliance verdict. To move to element_text.
    "schemas/checklist_formats.py": 2,
    "schemas/scap_components.py": 1,
    "schemas/scap_requirements.py": 3,
    "schemas/scap_result.py": 1,
    "schemas/scap_source.py": 1,
    "schemas/schematron.py": 1,
    # remove_keep_tail: moves a removed element's tail into its parent (a tree edit)
    "evaluator/signing/core.py": 1,
    # the streamed syschar writer copies system_data's text node as it is serialized, and
    # checks whether the document element has text (pretty-printing): no value is read
    "evaluator/results/syschar_stream.py": 2,
}


def test_every_xml_text_read_goes_through_xmlio():
    found: Counter[str] = Counter()
    where: dict[str, list[int]] = {}
    for pkg in ("evaluator", "generator", "schemas", "content"):
        for path in sorted((REPO / pkg).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and \
                        node.attr in ("text", "findtext", "itertext"):
                    found[rel] += 1
                    where.setdefault(rel, []).append(node.lineno)
    unexpected = {f: where[f] for f, n in found.items() if n != ALLOWED.get(f, 0)}
    assert not unexpected, f"direct .text/findtext/itertext reads (use xmlio): {unexpected}"
