"""The `stigscap` console script: starts what can start before the command line is parsed,
then runs the click application (`main.main`).

`stigscap validate FILE…` spends most of its time on a small file compiling the official
schema (libxml2, SCAP 1.3: ≈0.02 s with the OVAL extensions an SSG stream declares, ≈0.06 s
with all, mostly without the GIL). Here the first file's schema is compiled in a background
thread while Python imports click and the command modules, so the compile overlaps the
start-up instead of following it; and a validate run ends without the interpreter's tear-down
(`_exit_at_once`). The thread only reads the file (a regular file of at most 8 MiB) and
compiles a schema; a wrong guess costs time, never a verdict: the command itself parses its
arguments and reports every problem (`schemas.catalog.prepare`).
"""

from __future__ import annotations

import os
import sys
import threading

# validate's options that take a value (click also accepts --name=value)
_VALUE_OPTIONS = ("--schema-dir", "--format")


def validate_target(args: list[str]) -> tuple[str, str | None] | None:
    """(first file, --schema-dir) of a `stigscap [--debug] validate …` command line, else None."""
    rest = list(args)
    while rest and rest[0] == "--debug":
        rest.pop(0)
    if not rest or rest[0] != "validate":
        return None
    schema_dir, first, i = None, None, 1
    while i < len(rest):
        arg = rest[i]
        if arg == "--":
            first = first or (rest[i + 1] if i + 1 < len(rest) else None)
            break
        name, eq, value = arg.partition("=")
        if name in _VALUE_OPTIONS:
            if not eq:
                i += 1
                value = rest[i] if i < len(rest) else ""
            if name == "--schema-dir":
                schema_dir = value or None
        elif not arg.startswith("-") and first is None:
            first = arg
        i += 1
    return (first, schema_dir) if first else None


def _exit_at_once(exc: SystemExit) -> None:
    """End a `validate` run without the interpreter's tear-down.

    validate writes nothing but stdout and stderr, so once both are flushed there is nothing
    left to finish; freeing what it built (the compiled SDS 1.3 schema alone: 13-15 ms)
    would only delay the exit. Anything unusual (a message as exit status, a flush that
    fails) takes the normal way out."""
    if not (exc.code is None or isinstance(exc.code, int)):
        raise exc
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise exc from None
    os._exit(exc.code or 0)


def main() -> None:
    target = validate_target(sys.argv[1:])
    if target is not None:
        # imported here, before click: on two threads the two imports only slow each other.
        # A broken install is for the command itself to report, not for this shortcut.
        try:
            from stigscap.schemas import catalog
        except Exception:  # noqa: BLE001
            pass
        else:
            threading.Thread(target=catalog.prepare, args=target, daemon=True,
                             name="stigscap-schema-prepare").start()
    from .main import main as application
    if target is None:
        application()
        return
    try:
        application()
    except SystemExit as exc:
        _exit_at_once(exc)
