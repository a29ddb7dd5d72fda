"""What the CLI shows on the terminal while it works: a spinner, whether colour is wanted,
and the one line an internal error is reported as.

Kept apart from `options` so that a command which only needs these (validate) does not
import the checklist and credential machinery at start-up.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def working(message: str, *, quiet: bool = False) -> Iterator[None]:
    """A spinner with `message` on stderr while long work runs, on a terminal only (nothing
    when stderr is piped or a file, or with --quiet); colours follow NO_COLOR."""
    if quiet or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    with Console(stderr=True).status(message):
        yield


def no_color() -> bool:
    """NO_COLOR (https://no-color.org): set and not empty means no colour anywhere."""
    return bool(os.environ.get("NO_COLOR"))


INTERRUPTED = "stigscap: interrupted"   # the line Ctrl-C ends a command with (exit 130)


def internal_error(exc: BaseException) -> str:
    """The one line an unexpected exception (a bug) is reported as, without --debug."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"stigscap: internal error: {type(exc).__name__}: {text}"


def escape_unprintable() -> None:
    """Characters stdout's encoding cannot write (a file name outside latin-1 under a latin-1
    locale) are written as escapes (\\xe9, \\u2026), as Python writes them to stderr,
    instead of ending the command with an internal error halfway through its report."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(Exception):
            reconfigure(errors="backslashreplace")
