"""The `stigscap` console script: starts what can start before the command line is parsed,
then runs the click application (`main.main`).

`stigscap validate FILE…` spends most of its time on a small file compiling the official
schema (libxml2, SCAP 1.3: ≈0.02 s with the OVAL extensions an SSG stream declares, ≈0.06 s
with all, mostly without the GIL) and validating against it. Here, for a first file of at
most 8 MiB, background threads compile the schema, parse the file and validate it while
Python imports click and the command modules (`schemas.catalog.start_prepare`; the parse and
the validation only when a core is idle); the command then takes that verdict for a valid
file, or validates an invalid one itself, which words its errors. A validate run ends without
the interpreter's tear-down (`_exit_at_once`). The threads only read the file (a regular
file) and the schemas; a wrong guess costs time, never a verdict: the command itself parses
its arguments, reads the file again and takes the early verdict only for the very same bytes.

A plain validate command line (files, --xsd-only, --no-warnings, --format text|json:
`validate_files.plain_command_line`) is run without click: importing it took 10-15 ms of
each run, on the thread that then parses the file and runs the checks (ssg-ocp4: 234 -> 219
ms). Every other command line, --help included, goes to click, which calls the same
`validate_files`.
"""
from __future__ import annotations

import os
import sys

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


def _utf8(stream) -> bool:
    return (getattr(stream, "encoding", None) or "").lower().replace("-", "") == "utf8"


def _plain_validate(args: list[str]) -> dict[str, object] | None:
    """`validate_files.plain_command_line`, or None where that module does not load (a
    broken install is for click's path to report) or where stdout or stderr is not UTF-8:
    click.echo writes UTF-8 to a stream it judges misconfigured (ASCII), where a plain write
    would fail; on a UTF-8 stream the two write the same."""
    if not (_utf8(sys.stdout) and _utf8(sys.stderr)):
        return None
    try:
        from .validate_files import plain_command_line as plain
    except Exception:  # noqa: BLE001
        return None
    return plain(args)


def _validate_without_click(options: dict[str, object]) -> int:
    """Run a plain `validate` command line (`_plain_validate`) as click would run it:
    the same output, the same exit code, the same handling of an interruption, a closed
    output and an internal error (`main._Root.invoke`)."""
    from .terminal import INTERRUPTED, internal_error
    from .validate_files import EXIT_ERROR, validate_files

    try:
        return validate_files(**options)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED + "\n")
        return 130
    except BrokenPipeError:
        # the reader went away (`stigscap validate … | head`): end quietly, as click does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - one line, as the click application reports it
        sys.stderr.write(internal_error(exc) + "\n")
        return EXIT_ERROR


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
            # the background thread needs the GIL back after each schema file it loads;
            # the default 5 ms this thread may keep it meanwhile would add up to more
            # than the compile itself (measured: eks 127 -> 121 ms, ocp4 206 -> 197 ms)
            sys.setswitchinterval(0.0005)
            catalog.start_prepare(*target)
    if target is not None:
        plain = _plain_validate(sys.argv[1:])
        if plain is not None:
            _exit_at_once(SystemExit(_validate_without_click(plain)))
    from .main import main as application
    if target is None:
        application()
        return
    try:
        application()
    except SystemExit as exc:
        _exit_at_once(exc)
