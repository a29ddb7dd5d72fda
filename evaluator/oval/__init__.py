"""The OVAL 5.11 engine: definitions and system characteristics in, OVAL results out (pure)."""
