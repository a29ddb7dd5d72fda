"""XML-DSig signing and verification of source data streams and ARF documents."""
