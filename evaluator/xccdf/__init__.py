"""The XCCDF 1.2 engine and the SCAP 1.3 source data stream reader (pure)."""
