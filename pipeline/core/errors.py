"""One small tree of errors. The CLI maps each branch to an exit code (README, "Exit codes"):
0 done, 1 `check` found an error or the exactly-once rule refused a push, 2 content, config or
the command line is wrong, 3 a server (provider API, SMTP relay) refused or failed, 70 a bug in
newsletter, 130 stopped with Ctrl+C."""

from __future__ import annotations

BUG_EXIT_CODE = 70  # EX_SOFTWARE of sysexits.h: an internal error
INTERRUPTED_EXIT_CODE = 130
REPORT_BUGS_TO = "the newsletter project's issue tracker (README.md, 'Exit codes and bugs')"


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
    """The mailing-list provider (or the SMTP relay) refused or failed. Never carries the API key."""

    exit_code = 3

    def __init__(self, message: str, status: int | None = None, body: str = ""):
        self.status = status
        self.body = body
        super().__init__(message)
