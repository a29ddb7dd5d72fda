"""stigscap: DISA STIG items as SCAP 1.3 content, and Microsoft Exchange servers judged
against it.

This file is the top-level `stigscap` package once installed (pyproject maps it); the
pipeline stages are its subpackages `stigscap.content`, `stigscap.generator`,
`stigscap.evaluator` and `stigscap.schemas`. The public API (see `stigscap.evaluator.api`) is
re-exported here, loaded on first use:

    import stigscap
    ds = stigscap.generate_datastream()
    result = stigscap.evaluate(ds, stigscap.collect_offline(ds, stigscap.example_exports()))
"""

from __future__ import annotations

from typing import Any

from stigscap.evaluator import __all__  # the same public names


def __getattr__(name: str) -> Any:
    if name in __all__:
        from stigscap import evaluator
        return getattr(evaluator, name)
    raise AttributeError(f"module 'stigscap' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
