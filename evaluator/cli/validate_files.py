"""What `stigscap validate FILE…` does once its command line is read: validate each file,
print its problems and verdict, and return the exit code.

Kept free of click, so that the `stigscap` launcher can run the common command lines
(`plain_command_line`) without importing it (10-15 ms of every run, on the thread that
then runs the checks); any other command line goes through click (`validate.validate_cmd`),
which calls the same function. The two give the same output and exit code
(tests/pipeline/test_cli_launch.py).

Exit codes follow oscap's validators: 0 every file valid, 2 at least one file invalid,
1 at least one file could not be validated (unreadable, not XML, DTD, unknown root, schema
missing or changed). Warnings never change the exit code.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence

from stigscap.schemas.errors import StigscapError
from stigscap.schemas.validate import check_file

from .terminal import working

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2
FORMATS = ("text", "json")

# The trees parsed for the file validated last. They outlive the command so that the
# `stigscap` launcher's exit does not wait for them to be freed (a 24 MB stream's two trees:
# 60-130 ms); the next file or the next run frees them.
_LAST_PARSED: list[object] = []


def plain_echo(text: str, err: bool = False) -> None:
    """One line to stdout (stderr with `err`), as click.echo writes it to a UTF-8 stream."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def validate_files(files: Sequence[str], *, schema_dir: str | None = None, fmt: str = "text",
                   xsd_only: bool = False, schematron: bool = False, no_warnings: bool = False,
                   echo: Callable[..., None] = plain_echo) -> int:
    """Validate `files` in order, printing as `stigscap validate` prints (`echo(text,
    err=False)`: click's echo under click); the exit code."""
    reports: list[dict[str, object]] = []
    code = EXIT_OK
    for f in files:
        _LAST_PARSED.clear()   # the previous file's trees
        try:
            with working(f"validating {f}…", quiet=fmt == "json"):
                result = check_file(f, schema_dir=schema_dir, semantic_checks=not xsd_only,
                                    schematron=schematron, keep=_LAST_PARSED)
        except StigscapError as exc:
            echo(f"stigscap: {exc}", err=True)
            reports.append({"file": f, "kind": None, "valid": None, "error": str(exc),
                            "problems": []})
            code = EXIT_ERROR
            continue
        problems = [p for p in result.problems if not (no_warnings and p.severity != "error")]
        if not result.valid and code == EXIT_OK:
            code = EXIT_INVALID
        n_err = len(result.errors)
        n_warn = sum(1 for p in result.problems if p.severity == "warning")
        n_info = len(result.problems) - n_err - n_warn
        if fmt == "json":
            reports.append({"file": f, "kind": result.kind, "document": result.document,
                            "valid": result.valid, "error": None,
                            "errors": n_err, "warnings": n_warn, "info": n_info,
                            "problems": [p.to_dict() for p in problems]})
        else:
            if problems:   # one write: an SSG stream has thousands of SCAP 1.3 warnings
                echo("\n".join(map(str, problems)))
            verdict = "valid" if result.valid else "INVALID"
            counts = [f"{n_err} errors, {n_warn} warnings"] if (n_err or n_warn or n_info) else []
            if n_info:
                counts.append(f"{n_info} info")
            extra = f" ({', '.join(counts)})" if counts else ""
            doc = f" ({result.document})" if result.document == "Tailoring" else ""
            echo(f"{f}: {verdict} {result.kind}{doc}{extra}")
    if fmt == "json":
        echo(json.dumps({"exit_code": code, "files": reports}, indent=1))
    return code


_FLAGS = {"--xsd-only": "xsd_only", "--no-warnings": "no_warnings"}


def plain_command_line(args: Sequence[str]) -> dict[str, object] | None:
    """The arguments of `validate_files` for `args` (what follows `stigscap`) when they are
    `validate` with files and nothing but --xsd-only, --no-warnings and --format text|json;
    None for anything else (other options, `--`, a file name that starts with '-' or holds a
    control character, no file), which click then reads."""
    if not args or args[0] != "validate":
        return None
    options: dict[str, object] = {}
    files: list[str] = []
    rest = list(args[1:])
    while rest:
        arg = rest.pop(0)
        if arg in _FLAGS:
            options[_FLAGS[arg]] = True
        elif arg == "--format" or arg.startswith("--format="):
            value = arg.partition("=")[2] if "=" in arg else (rest.pop(0) if rest else "")
            if value not in FORMATS:
                return None
            options["fmt"] = value
        elif arg.startswith("-") or not arg or any(ord(c) < 32 or ord(c) == 127 for c in arg):
            return None
        else:
            files.append(arg)
    return {"files": files, **options} if files else None
