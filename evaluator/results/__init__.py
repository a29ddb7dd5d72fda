"""ARF 1.1 result documents: writing them (arf) and reading them back (arf_reader)."""
