"""The `stigscap` command line: one root group; each stage contributes its own commands.

Exit codes follow oscap: 0 all pass (or success), 2 findings, 1 error. Every StigscapError is
printed as one line `stigscap: file:line: problem`; an unexpected exception is reported in one
line as an internal error (`--debug` shows the traceback).
"""

from __future__ import annotations

import importlib

import click

from stigscap.schemas.errors import StigscapError

EXIT_OK, EXIT_ERROR, EXIT_FINDINGS = 0, 1, 2

# Modules that define click commands in a `COMMANDS` list. Each stage owns its module.
COMMAND_MODULES = [
    "stigscap.generator.commands",
    "stigscap.schemas.commands",
    "stigscap.evaluator.commands_eval",
    "stigscap.evaluator.commands_collect",
    "stigscap.evaluator.commands_scan",
]


class _Root(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except StigscapError as exc:
            click.echo(f"stigscap: {exc}", err=True)
            ctx.exit(EXIT_ERROR)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("stigscap: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - last line of defence: never a traceback
            if ctx.obj and ctx.obj.get("debug"):
                raise
            text = " ".join(str(exc).split()) or type(exc).__name__
            click.echo(f"stigscap: internal error: {type(exc).__name__}: {text}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, hidden=True, help="show tracebacks of internal errors")
@click.version_option(package_name="stigscap")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """stigscap: DISA STIG items as SCAP 1.3 content, and Exchange servers judged against it."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


for _name in COMMAND_MODULES:
    for _cmd in importlib.import_module(_name).COMMANDS:
        main.add_command(_cmd)




if __name__ == "__main__":  # `python -m stigscap.evaluator.cli` (used by the tests)
    main()
