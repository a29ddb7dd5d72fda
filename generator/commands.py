"""CLI commands of the generator stage."""

COMMANDS: list = []
