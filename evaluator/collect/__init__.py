"""Collection: offline exports and live WinRM/PSRP into collected objects and OVAL system characteristics."""
