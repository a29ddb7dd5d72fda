"""Content platform → CPE 2.3 dictionary whose items are checked by the inventory definitions:
the benchmark's platform, then each rule applicability condition."""

from __future__ import annotations

from stigscap.content.model import Applicability, Benchmark, Platform, Rule

from .oval import OvalIds, applicabilities
from .render import render


def cpe_dictionary(benchmark: Benchmark, inventory: dict[str, OvalIds], cpe_oval_href: str,
                   timestamp: str, version: str, rules: list[Rule] | None = None) -> bytes:
    conditions: list[Platform | Applicability] = [benchmark.platform,
                                                  *applicabilities(rules or [])]
    items = [{"cpe22": c.cpe22, "cpe23": c.cpe, "title": c.title,
              "definition_id": inventory[c.cpe22].definition} for c in conditions]
    return render("cpe-dictionary.xml.j2", product_name="stigscap", product_version=version,
                  timestamp=timestamp, oval_href=cpe_oval_href, items=items)
