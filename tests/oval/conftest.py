"""tests/oval: the local fixture builders importable (import-mode=importlib), and the
official OVAL 5.11.2 results schema (with the Windows item/definition schemas) as a fixture."""

from pathlib import Path

import pytest
from lxml import etree


OVAL_XSD = Path("/usr/share/openscap/schemas/oval/5.11.2")


@pytest.fixture(scope="session")
def results_schema(tmp_path_factory):
    if not OVAL_XSD.is_dir():
        pytest.skip("official OVAL 5.11.2 schemas not installed")
    d = tmp_path_factory.mktemp("xsd")
    imports = [("http://oval.mitre.org/XMLSchema/oval-results-5", "oval-results-schema.xsd"),
               ("http://oval.mitre.org/XMLSchema/oval-definitions-5#windows",
                "windows-definitions-schema.xsd"),
               ("http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows",
                "windows-system-characteristics-schema.xsd")]
    body = "".join(f'<xsd:import namespace="{ns}" schemaLocation="{OVAL_XSD / f}"/>'
                   for ns, f in imports)
    (d / "wrap.xsd").write_text(
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        f'targetNamespace="urn:stigscap:test:wrap">{body}</xsd:schema>')
    return etree.XMLSchema(etree.parse(str(d / "wrap.xsd")))


