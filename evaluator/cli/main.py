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
# They are imported lazily, in this order, until one defines the command asked for (so
# `stigscap validate` does not pay for importing the generator); `--help` imports all.
COMMAND_MODULES = [
    "stigscap.evaluator.cli.validate",
    "stigscap.evaluator.cli.generate",
    "stigscap.evaluator.cli.import_stig",
    "stigscap.evaluator.cli.oval",
    "stigscap.evaluator.cli.collect",
    "stigscap.evaluator.cli.eval",
    "stigscap.evaluator.cli.run",
    "stigscap.evaluator.cli.sign",
    "stigscap.evaluator.cli.export",
    "stigscap.evaluator.cli.scan",
]


class _Root(click.Group):
    def _import_next(self) -> bool:
        loaded = self.__dict__.setdefault("_loaded_modules", set())
        for name in COMMAND_MODULES:
            if name not in loaded:
                loaded.add(name)
                for cmd in importlib.import_module(name).COMMANDS:
                    self.add_command(cmd)
                return True
        return False

    def get_command(self, ctx, cmd_name):
        while cmd_name not in self.commands and self._import_next():
            pass
        return self.commands.get(cmd_name)

    def list_commands(self, ctx):
        while self._import_next():
            pass
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except StigscapError as exc:
            click.echo(f"stigscap: {exc}", err=True)
            ctx.exit(EXIT_ERROR)
        except click.BadParameter as exc:
            # A path click refused (a directory given as a file, a file as a directory, a
            # missing file) is bad input, not bad usage: one line and exit 1, never click's
            # usage block and exit 2 (2 means findings).
            if not isinstance(getattr(exc.param, "type", None), click.Path):
                raise
            click.echo(f"stigscap: {' '.join(exc.format_message().split())}", err=True)
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






if __name__ == "__main__":  # `python -m stigscap.evaluator.cli.main` (used by the tests)
    main()
