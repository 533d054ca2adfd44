"""The rules of `newsletter check`, one module per subject; pipeline/check.py lists and runs them."""
