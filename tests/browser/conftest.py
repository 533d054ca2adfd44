"""The browser tests use the session `browser` fixture of tests/conftest.py."""
