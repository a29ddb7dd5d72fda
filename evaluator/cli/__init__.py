"""The `stigscap` command line: the click root (main) and one module per command."""
