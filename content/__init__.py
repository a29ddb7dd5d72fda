"""Authored STIG content (YAML) and its typed model."""
