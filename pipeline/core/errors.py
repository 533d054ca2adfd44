"""One small tree of errors. The CLI maps each branch to an exit code."""

from __future__ import annotations


class PipelineError(Exception):
    """Anything the writer can fix; the message says what and how."""

    exit_code = 2


class ContentError(PipelineError):
    """A problem in a content or template file, located at file:line."""

    def __init__(self, path: str, line: int, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


class ContentErrors(PipelineError):
    """Every ContentError found in one pass, so the writer sees them all at once."""

    def __init__(self, errors: list[ContentError]):
        self.errors = sorted(errors, key=lambda e: (e.path, e.line))
        super().__init__("\n".join(str(e) for e in self.errors))


class ConfigError(PipelineError):
    """newsletter.toml is wrong, or an environment variable is missing."""


class PushRefused(PipelineError):
    """The push would break the exactly-once promise (e.g. changing a pushed issue)."""

    exit_code = 1


class ProviderError(PipelineError):
    """The mailing-list provider refused or failed. Never carries the API key."""

    exit_code = 1

    def __init__(self, message: str, status: int | None = None, body: str = ""):
        self.status = status
        self.body = body
        super().__init__(message)
