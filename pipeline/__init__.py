"""newsletter: Markdown in git -> a weekly email and a static blog."""

__version__ = "0.1.0"
