"""CLI commands of the schemas stage."""

COMMANDS: list = []
