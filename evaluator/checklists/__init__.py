"""STIG Viewer checklists (CKL, CKLB) and the HTML report, built from ARF results."""
