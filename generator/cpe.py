"""Content platform → CPE 2.3 dictionary whose item is checked by the inventory definition."""

from __future__ import annotations

from stigscap.content.model import Benchmark

from .render import render


def cpe_dictionary(benchmark: Benchmark, inventory_definition: str, cpe_oval_href: str,
                   timestamp: str, version: str) -> bytes:
    p = benchmark.platform
    return render("cpe-dictionary.xml.j2", product_name="stigscap", product_version=version,
                  timestamp=timestamp, cpe22=p.cpe22, cpe23=p.cpe, title=p.title,
                  oval_href=cpe_oval_href, definition_id=inventory_definition)
