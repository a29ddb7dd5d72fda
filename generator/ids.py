"""Stable identifiers, all derived from content and one configurable id namespace.

XCCDF 1.2 ids keep DISA's ids inside (`xccdf_<ns>_rule_SV-84553r1_rule`); OVAL ids carry the
STIG's V-number (`oval:<ns>:def:69931`, tests/objects/states/variables `<V-number><2-digit n>`);
the platform inventory definition is number 1. Source data stream ids follow SSG's scheme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stigscap.schemas.errors import StigscapError

DEFAULT_NAMESPACE = "mil.disa.stig"
_NS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")  # SRC-338: reverse-DNS letters, digits, . and -


@dataclass(frozen=True)
class IdScheme:
    namespace: str = DEFAULT_NAMESPACE
    stem: str = "stigscap"
    # in a collection of several benchmarks (SCAP 1.3 A-25-1: a Profile id is unique in the
    # collection) each benchmark's profile ids end in `.<profile_tag>`; `--profile MAC-1_…`
    # still finds them (xccdf.engine: Benchmark.profile_id)
    profile_tag: str | None = None

    def __post_init__(self) -> None:
        if not _NS.match(self.namespace):
            raise StigscapError(f"id namespace {self.namespace!r} must be reverse-DNS style "
                                "(letters, digits, periods, hyphens)")

    # XCCDF 1.2
    def xccdf(self, kind: str, name: str) -> str:
        return f"xccdf_{self.namespace}_{kind}_{name}"

    def benchmark(self, bench_id: str) -> str:
        return self.xccdf("benchmark", bench_id)

    def profile(self, profile_id: str) -> str:
        tag = f".{self.profile_tag}" if self.profile_tag else ""
        return self.xccdf("profile", profile_id + tag)

    def group(self, group_id: str) -> str:
        return self.xccdf("group", group_id)

    def rule(self, rule_id: str) -> str:
        return self.xccdf("rule", rule_id)

    def value(self, value_id: str) -> str:
        return self.xccdf("value", value_id)

    # OVAL
    def oval(self, kind: str, number: int) -> str:
        return f"oval:{self.namespace}:{kind}:{number}"

    # files and data stream
    def file(self, suffix: str) -> str:
        return f"{self.stem}-{suffix}.xml"

    def ds(self, kind: str, name: str) -> str:
        return f"scap_{self.namespace}_{kind}_{name}"
