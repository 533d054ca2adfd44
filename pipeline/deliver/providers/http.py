"""The HTTP side shared by every API provider: one requests Session, a timeout on every call,
conservative retries, the provider's own error message, and secrets kept out of every message.

Retries (like urllib3's Retry, but it cannot cap Retry-After nor tell a refused POST from a
lost one):
- 429 is retried for every method: the provider refused the request before doing anything.
- 503, read timeouts and dropped connections are retried only for idempotent methods.
- A POST that creates or sends is retried only when it never reached the server (connection
  refused, connect timeout). Otherwise the error goes up, and the next `newsletter push` looks
  the campaign up before creating one (pipeline/deliver/push.py).
Waits honour Retry-After (seconds or an HTTP date), capped; without it the wait doubles from
`backoff_base`, capped and jittered.
"""

from __future__ import annotations

import base64
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import requests
from requests.auth import AuthBase

from pipeline.core.clock import now as utc_now
from pipeline.core.errors import ConfigError, ProviderError
from pipeline.core.stages import answer_stages
from pipeline.deliver.providers.base import ListReader, Provider
from pipeline.deliver.reader_stages import stored_date

log = logging.getLogger(__name__)

SECRET_WORDS = re.compile(r"key|token|secret|password", re.IGNORECASE)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})
REDACTED = "[redacted]"
BODY_LIMIT = 2000  # characters of a response body kept on a ProviderError


@dataclass(frozen=True)
class ErrorDetail:
    """What a provider said went wrong, taken from its error body."""

    message: str
    field: str | None = None


class ProviderHTTPError(ProviderError):
    """The provider answered with an error; `provider_message` and `field` are its own words."""

    def __init__(self, message: str, status: int, body: str, field: str | None, provider_message: str):
        super().__init__(message, status=status, body=body)
        self.field = field
        self.provider_message = provider_message


class HeaderAuth(AuthBase):
    """Sets fixed headers. Being an auth object also stops requests from reading ~/.netrc."""

    def __init__(self, headers: Mapping[str, str]):
        self.headers = dict(headers)

    def __call__(self, request):
        request.headers.update(self.headers)
        return request


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


def secret_forms(*secrets: str, basic_user: str = "newsletter") -> list[str]:
    """Every form a secret can take on the wire: as is, as the `user:key` pair of the first two,
    and base64-encoded as HTTP Basic sends it. Longest first, so no part is left behind."""
    plain = [s for s in secrets if s]
    if len(plain) >= 2:
        plain.append(f"{plain[0]}:{plain[1]}")
    pairs = plain + [f"{basic_user}:{s}" for s in plain]
    encoded = [base64.b64encode(p.encode()).decode() for p in pairs]
    return sorted(set(plain + encoded), key=len, reverse=True)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds to wait: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or utc_now()
    return max(0.0, (when - now).total_seconds())


def backoff_delay(
    attempt: int, base: float, cap: float, rng: Callable[[float, float], float] = random.uniform
) -> float:
    """Wait before retry number `attempt` (0-based): doubling from `base`, capped, jittered."""
    ceiling = min(cap, base * (2**attempt))
    return rng(ceiling / 2, ceiling)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the server (so even a POST may be retried)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3 MaxRetryError wraps the cause
    return type(reason).__name__ in {"NewConnectionError", "NameResolutionError"} or isinstance(
        reason, ConnectionRefusedError
    )


class HttpTransport:
    """One provider's connection: base URL, auth, retries and error parsing."""

    timeout: ClassVar[tuple[float, float]] = (10.0, 30.0)  # (connect, read) seconds, every call
    max_attempts: ClassVar[int] = 4
    backoff_cap: ClassVar[float] = 30.0
    retry_after_cap: ClassVar[float] = 60.0
    sleep: ClassVar[Callable[[float], None]] = staticmethod(time.sleep)

    def __init__(
        self,
        provider: str,
        base_url: str,
        auth: AuthBase,
        secrets: Iterable[str],
        credential_env: Iterable[str],
        parse_error: Callable[[requests.Response], ErrorDetail | None],
        backoff_base: float = 1.0,
        headers: Mapping[str, str] | None = None,
    ):
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.secrets = list(secrets)
        self.credential_env = list(credential_env)
        self.parse_error = parse_error
        self.backoff_base = backoff_base
        self.session = requests.Session()
        self.session.auth = auth
        self.session.headers.update({"Accept": "application/json", "User-Agent": "newsletter-pipeline"})
        self.session.headers.update(headers or {})

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, what: str, **kwargs) -> requests.Response:
        return self.request("GET", path, what, **kwargs)

    def post(self, path: str, what: str, **kwargs) -> requests.Response:
        return self.request("POST", path, what, **kwargs)

    def put(self, path: str, what: str, **kwargs) -> requests.Response:
        return self.request("PUT", path, what, **kwargs)

    def patch(self, path: str, what: str, **kwargs) -> requests.Response:
        return self.request("PATCH", path, what, **kwargs)

    def request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: Iterable[int] = (),
    ) -> requests.Response:
        """Send one request, retrying what is safe to retry; raise ProviderError on failure.

        `what` completes "<provider> could not ...", e.g. "create the draft".
        `ok_statuses` are error statuses the caller handles itself (e.g. 404 on a lookup).
        """
        idempotent = method in IDEMPOTENT_METHODS
        url = self.url(path)
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = self.session.request(
                    method, url, json=json, params=params, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                log.debug("%s %s -> %s", method, self._safe(url), type(exc).__name__)
                if attempt + 1 < self.max_attempts and (idempotent or _never_sent(exc)):
                    self._wait(attempt, None)
                    attempt += 1
                    continue
                raise self._transport_error(exc, what, method, attempt + 1) from None
            log.debug("%s %s -> %s (%.2f s)", method, self._safe(url), response.status_code, time.monotonic() - started)
            if response.ok:
                return self._checked_json(response, what)
            if response.status_code in ok_statuses:
                return response
            if self._retryable(response.status_code, idempotent) and attempt + 1 < self.max_attempts:
                self._wait(attempt, response.headers.get("Retry-After"))
                attempt += 1
                continue
            raise self.error(response, what, attempt + 1)

    def _checked_json(self, response: requests.Response, what: str) -> requests.Response:
        """A success whose body is not JSON (a login page, a proxy's error page) is not a success:
        the address is wrong or something stands in the way."""
        if response.content.strip() and json_body(response) is None and response.content.strip() != b"null":
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            start = " ".join(self._safe(response.text).split())[:120]
            raise ProviderError(
                f"{self.provider} could not {what}: {self._safe(self.base_url)} answered HTTP "
                f"{response.status_code} with {kind}, not JSON ('{start}'): check [provider] base_url "
                "points at the API, and that no proxy or login page stands in the way",
                status=response.status_code,
            )
        return response

    @staticmethod
    def _retryable(status: int, idempotent: bool) -> bool:
        return status == 429 or (status == 503 and idempotent)

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        asked = parse_retry_after(retry_after)
        if asked is not None:
            delay = min(asked, self.retry_after_cap)
        else:
            delay = backoff_delay(attempt, self.backoff_base, self.backoff_cap)
        log.debug("%s: waiting %.1f s before retrying", self.provider, delay)
        type(self).sleep(delay)

    # Errors -------------------------------------------------------------------------------

    def _safe(self, text: str) -> str:
        return redact(text, self.secrets)

    def error(self, response: requests.Response, what: str, attempts: int = 1) -> ProviderError:
        status = response.status_code
        text = self._safe(response.text)  # before cutting, so no part of a secret is left
        body = text[:BODY_LIMIT]
        detail = self._detail(response, text)
        said = f"HTTP {status}" + (f": {detail.message}" if detail and detail.message else "")
        if detail and detail.field:
            said += f" (field '{detail.field}')"
        prefix = f"{self.provider} could not {what}"
        if status in (401, 403):
            message = f"{prefix}: the {self._credential_phrase()} refused ({said})"
        elif status == 429:
            message = (
                f"{prefix}: still rate limited after {attempts} attempts ({said}); wait a "
                "minute, then run the command again"
            )
        elif status >= 500:
            message = (
                f"{prefix}: the server failed ({said}); run the command again later - it "
                "looks the campaign up before creating one"
            )
        else:
            message = f"{prefix}: {said}"
        return ProviderHTTPError(
            self._safe(message),
            status=status,
            body=body,
            field=detail.field if detail else None,
            provider_message=detail.message if detail else "",
        )

    def _detail(self, response: requests.Response, safe_text: str) -> ErrorDetail | None:
        try:
            detail = self.parse_error(response)
        except (ValueError, KeyError, TypeError, AttributeError):
            detail = None
        if detail is None or not detail.message:
            text = " ".join(safe_text.split())[:300]
            return ErrorDetail(text) if text else detail
        return ErrorDetail(self._safe(detail.message), detail.field)

    def _credential_phrase(self) -> str:
        if len(self.credential_env) == 1:
            return f"API key in {self.credential_env[0]} was"
        return f"API credentials in {' and '.join(self.credential_env)} were"

    def _transport_error(self, exc: requests.RequestException, what: str, method: str, attempts: int) -> ProviderError:
        host = self.base_url
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if isinstance(exc, requests.exceptions.Timeout) and not isinstance(exc, requests.exceptions.ConnectTimeout):
            message = f"{self.provider} could not {what}: no answer from {host} within {self.timeout[1]:g} s{tries}"
        else:
            message = f"{self.provider} could not {what}: could not connect to {host}{tries} ({type(exc).__name__})"
        if method not in IDEMPOTENT_METHODS and not _never_sent(exc):
            message += (
                ". The provider may have acted on it anyway; run the command again - it looks the campaign up first"
            )
        return ProviderError(self._safe(message))


def json_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class HttpProvider(Provider):
    """A provider reached over HTTP. Subclasses set the API address, auth and error format."""

    default_api_url: ClassVar[str] = ""
    backoff_base: ClassVar[float] = 1.0
    option_types: ClassVar[dict[str, type | tuple[type, ...]]] = {}

    def __init__(self, config, env=None):
        secret_keys = sorted(k for k in config.provider.options if SECRET_WORDS.search(k))
        if secret_keys:
            raise ConfigError(
                f"newsletter.toml: [provider] {secret_keys[0]}: secrets do not belong in newsletter.toml; "
                f"remove it and set {' and '.join(self.secret_env)} in the environment instead"
            )
        super().__init__(config, env)
        for key, value in config.provider.options.items():
            expected = self.option_types.get(key)
            if expected and not isinstance(value, expected):
                names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
                raise ConfigError(
                    f"newsletter.toml: [provider] {key} must be a {names}, not {type(value).__name__} ({value!r})"
                )
        self._http: HttpTransport | None = None

    # Subclasses provide these.
    def auth(self) -> AuthBase:
        raise NotImplementedError

    def parse_error(self, response: requests.Response) -> ErrorDetail | None:
        raise NotImplementedError

    def extra_headers(self) -> dict[str, str]:
        return {}

    # Shared helpers.
    def api_url(self) -> str:
        return (self.config.provider.base_url or self.default_api_url).rstrip("/")

    def secret_values(self) -> list[str]:
        return [self.secret(variable) for variable in self.secret_env]

    @property
    def http(self) -> HttpTransport:
        """Built on first use, so that `newsletter build` needs no API key."""
        if self._http is None:
            self._http = HttpTransport(
                provider=self.name,
                base_url=self.api_url(),
                auth=self.auth(),
                secrets=secret_forms(*self.secret_values()),
                credential_env=self.secret_env,
                parse_error=self.parse_error,
                backoff_base=self.backoff_base,
                headers=self.extra_headers(),
            )
        return self._http

    def option(self, key: str, hint: str = "") -> Any:
        value = self.config.provider.options.get(key)
        if value in (None, "", []):
            extra = f" ({hint})" if hint else ""
            raise ConfigError(f"newsletter.toml: set {key} in [provider] to use provider '{self.name}'{extra}")
        return value

    def reply_to(self) -> str:
        return self.config.email.reply_to or self.config.email.sender_address

    # The stage sync: where a reader's dates sit in her custom fields.
    DATE_FIELD_KEYS: ClassVar[tuple[str, str]] = ("due_date_field", "birth_date_field")
    default_date_fields: ClassVar[tuple[str, str]] = ("due_date", "birth_date")

    def date_fields(self) -> tuple[str, str]:
        """The names of the due-date and birth-date fields (`[provider] due_date_field`, ...)."""
        options, keys = self.config.provider.options, zip(self.DATE_FIELD_KEYS, self.default_date_fields, strict=True)
        return tuple(options.get(key) or default for key, default in keys)

    def date_order(self) -> str | None:
        """The order of day and month in the provider's date fields (reader_stages.DAY_FIRST or
        MONTH_FIRST); None: free text, where an ambiguous date is refused."""
        return None

    def reader_from_fields(self, reader_id: str, email: str, stages: frozenset[str], fields: Any) -> ListReader:
        """A ListReader from her custom fields (a dict, or anything else meaning none)."""
        fields = fields if isinstance(fields, dict) else {}
        dates, problems = [], []
        for name in self.date_fields():
            try:
                dates.append(stored_date(fields.get(name), self.date_order()))
            except ValueError as why:
                dates.append(None)
                problems.append(f"her '{name}' is {why}")
        return ListReader(str(reader_id), email, stages, dates[0], dates[1], "; ".join(problems) or None)

    def stage_ids(
        self, key: str, what: str, types: tuple[type, ...], stages: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """`[provider] <key> = {<stage> = <id>, ...}`: the provider's id (a tag, a list) of each
        stage in `stages` (default: every configured stage, since each version's audience rule
        names them all). A missing or mistyped id is a ConfigError naming the key."""
        wanted = list(self.config.audience.stages if stages is None else stages)
        mapping = self.config.provider.options.get(key) or {}
        example = ", ".join(f'"{stage}" = ...' for stage in wanted[:2])
        missing = [stage for stage in wanted if stage not in mapping]
        if missing:
            raise ConfigError(
                f"newsletter.toml: [provider] {key} needs the {what} of "
                f"{', '.join(repr(s) for s in missing)} to send this week's "
                f"stage versions with '{self.name}': add it, as in {key} = {{ {example} }} (see docs/providers.md)"
            )
        for stage in wanted:
            value = mapping[stage]
            if isinstance(value, bool) or not isinstance(value, types) or value in ("", 0):
                kind = " or ".join(t.__name__ for t in types)
                raise ConfigError(
                    f"newsletter.toml: [provider] {key}: the {what} of '{stage}' must be a {kind}, not {value!r}"
                )
        return {stage: mapping[stage] for stage in wanted}


def stage_answers(provider, key: str) -> dict[str, str]:
    """The form's answers -> the value of `[provider] <key>` (a tag or list id) for each answer's
    stage; an answer whose stage has no id there is left out. {}: no stage can be asked."""
    mapping = provider.config.provider.options.get(key) or {}
    audience = provider.config.audience
    values = {
        answer: str(mapping[stage])
        for answer, stage in answer_stages(audience.stages, audience.pregnant_stage).items()
        if stage in mapping and not isinstance(mapping[stage], bool)
    }
    return values if set(values) - {"general"} else {}


def issue_marker(issue_key: str) -> str:
    """The label that ties a campaign to an issue where the provider has no metadata field."""
    return f"newsletter:{issue_key}"


HASH_LABEL = "sha256:"


def hash_label(content_hash: str) -> str:
    """The label that records which build a campaign holds (pipeline/deliver/push.py compares it)."""
    return HASH_LABEL + content_hash


def hash_from_labels(labels: Iterable[str]) -> str | None:
    for label in labels:
        if label.startswith(HASH_LABEL):
            return label.removeprefix(HASH_LABEL)
    return None


def utc_iso(when: datetime) -> str:
    """An ISO 8601 UTC timestamp ("2026-11-23T08:00:00Z"); a naive time is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
