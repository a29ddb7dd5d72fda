"""Fleet scans: many hosts collected and evaluated concurrently over WinRM."""
