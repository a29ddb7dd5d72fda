"""The stigscap evaluator and the public Python API (`stigscap.evaluator.api`, also importable
as the top-level `stigscap` package).

Subpackages, in pipeline order: collect (offline exports and live WinRM/PSRP → OVAL system
characteristics), oval (the OVAL 5.11.2 engine), xccdf (data streams and the XCCDF engine),
results (ARF 1.1), checklists (CKL, CKLB, HTML), signing (XML-DSig), fleet (many hosts), cli
(the `stigscap` command). Names are loaded on first use, so the command line starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ArfResult", "Document", "Evaluator", "SigningKey", "StigscapError", "TargetInfo",
           "VerifyReport", "__version__", "checklist", "checklists", "collect_offline",
           "evaluate", "example_exports", "generate_datastream", "html_report",
           "load_signing_key", "sign", "validate", "verify"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from stigscap.schemas.clock import product_version
        return product_version()
    if name in __all__:
        return getattr(importlib.import_module("stigscap.evaluator.api"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
