"""Typed settings from newsletter.toml, validated once. Secrets come only from the environment."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import tomllib
import typing
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline.core.errors import ConfigError
from pipeline.core.stage_calendar import StageCalendar
from pipeline.core.stages import DEFAULT_PREGNANT_STAGE, DEFAULT_STAGES, GENERAL_STAGE

CONFIG_FILE = "newsletter.toml"


@dataclass
class SiteConfig:
    title: str = "My Newsletter"
    base_url: str = "https://example.com"
    description: str = ""
    language: str = "en"
    author: str = ""
    per_page: int = 10


@dataclass
class EmailConfig:
    sender_name: str = "My Newsletter"
    sender_address: str = "hello@example.com"
    reply_to: str = ""
    postal_address: str = "Postal address not set - add [email] postal_address to newsletter.toml"
    content: str = "full"  # "full" articles, or "excerpt" with a "read on the blog" button
    why_you_get_this: str = "You are receiving this because you signed up on our website."
    disclaimer: str = (
        "This newsletter is general information, not medical advice. Check with your doctor "
        "or pelvic health physiotherapist before starting any exercise."
    )
    unsubscribe_url: str = ""  # default: <base_url>/unsubscribe/
    timezone: str = "UTC"
    utm: bool = False  # add utm_source/utm_medium/utm_campaign to the email's links to the blog


# Claims we never make, in any content file. A pattern between slashes is a regular expression;
# anything else is a phrase: whole words, any case, any spacing, and a word N stands for a number.
DEFAULT_BANNED_CLAIMS = [
    r"/\bcur(?:e|es|ed|ing)\b/",
    r"/\bguarantee(?:s|d)?\b/",
    "painless",
    "miracle",
    r"/\brisk[-\s]free\b/",
    r"/(?:100\s*%|completely|totally|perfectly)\s+safe\b/",
    r"/\b(?:snap|bounce)\s+back\b/",
    "pre-baby body",
    r"/\b(?:lose|flatten|shrink|banish|get\s+rid\s+of)\s+(?:the\s+|your\s+)?(?:mummy|mommy|mum|mom)\s+tummy\s+in\s+\w+\s+(?:days?|weeks?)\b/",
    "flat tummy in N days",
]


@dataclass
class SafetyConfig:
    review_max_age_months: int = 12  # an exercise reviewed longer ago than this is a warning
    banned_claims: list = field(default_factory=lambda: list(DEFAULT_BANNED_CLAIMS))


@dataclass
class ProviderConfig:
    name: str = "outbox"
    base_url: str = ""
    signup_url: str = ""
    options: dict = field(default_factory=dict)  # per-provider keys, checked by the provider


@dataclass
class AudienceConfig:
    """Reader stages (pipeline/core/stages.py): the tags subscribers carry, in order of precedence."""

    stages: list = field(default_factory=lambda: list(DEFAULT_STAGES))
    pregnant_stage: str = DEFAULT_PREGNANT_STAGE  # never sees an exercise marked `pregnancy: avoid`; "" for none
    # A reader's dates pick her stage (pipeline/core/stage_calendar.py): pregnancy, early and later postpartum.
    dated_stages: list = field(default_factory=lambda: list(DEFAULT_STAGES))
    early_postpartum_weeks: int = 6
    postpartum_end_months: int = 24

    @property
    def calendar(self) -> StageCalendar:
        if not all(stage in self.stages for stage in self.dated_stages):
            return StageCalendar(dated_stages=())  # custom stages without the defaults: dates pick nothing
        return StageCalendar(tuple(self.dated_stages), self.early_postpartum_weeks, self.postpartum_end_months)


@dataclass
class ReadersConfig:
    """The self-hosted reader service (`newsletter serve`, pipeline/readers/)."""

    url: str = ""  # its public address; default: [site] base_url (the blog and the service on one host)
    confirm_days: int = 7  # a confirmation link expires after this many days
    confirmations_per_day: int = 3  # emails one address can be sent a day by the form (no mail bombing)
    posts_per_minute_per_ip: int = 20  # form posts one IP address can make a minute
    allowed_origins: list = field(default_factory=list)  # more origins whose pages may post to it
    former_base_urls: list = field(default_factory=list)  # blog addresses it had: their unsubscribe links still work
    # Proxies (addresses or networks) in front of the service whose X-Forwarded-For is believed
    # for the per-IP rate limit; from anyone else the header is ignored. Empty: the connection's address.
    trusted_proxies: list = field(default_factory=list)

    def trusted_networks(self) -> tuple:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)


@dataclass
class ContentConfig:
    """How the loader treats what other tools write (docs/authoring.md, "Files from other tools")."""

    strict: bool = False  # an unknown front matter key is an error, not a warning


@dataclass
class Config:
    root: Path
    site: SiteConfig = field(default_factory=SiteConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    provider: ProviderConfig = field(default_factory=ProviderConfig)
    audience: AudienceConfig = field(default_factory=AudienceConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    readers: ReadersConfig = field(default_factory=ReadersConfig)
    content: ContentConfig = field(default_factory=ContentConfig)

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def dist_dir(self) -> Path:
        return self.root / "dist"

    @property
    def outbox_dir(self) -> Path:
        return self.root / "outbox"

    @property
    def state_dir(self) -> Path:
        return self.root / ".newsletter"

    @property
    def base_url(self) -> str:
        return self.site.base_url.rstrip("/") + "/"

    @property
    def unsubscribe_url(self) -> str:
        return self.email.unsubscribe_url or self.readers_url + "unsubscribe/"

    @property
    def list_identities(self) -> tuple[str, ...]:
        """What an unsubscribe token of this list names: the blog's address, then the ones it had."""
        return (self.base_url, *(url.rstrip("/") + "/" for url in self.readers.former_base_urls))

    @property
    def readers_url(self) -> str:
        """Where the reader service answers, ending in "/": `[readers] url`, else the blog's address."""
        return (self.readers.url or self.site.base_url).rstrip("/") + "/"


SECTIONS = {"site": SiteConfig, "email": EmailConfig, "provider": ProviderConfig, "safety": SafetyConfig}
SECTIONS["audience"] = AudienceConfig
SECTIONS["readers"] = ReadersConfig
SECTIONS["content"] = ContentConfig
STAGE_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # usable as a subscriber tag
EMAIL_CONTENT_MODES = ("full", "excerpt")


def load_config(root: Path | str = ".") -> Config:
    root = Path(root).resolve()
    path = root / CONFIG_FILE
    raw: dict = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{CONFIG_FILE}: {exc}") from exc
    return config_from_dict(raw, root)


def config_from_dict(raw: dict, root: Path) -> Config:
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{CONFIG_FILE}: unknown section [{unknown[0]}] (known: {', '.join(SECTIONS)})")
    sections = {}
    for name, cls in SECTIONS.items():
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{CONFIG_FILE}: [{name}] must be a table")
        sections[name] = _section(name, cls, value)
    config = Config(root=root, **sections)
    _check_values(config)
    return config


def _section(name: str, cls: type, values: dict):
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)} - {"options"}
    kwargs, options = {}, {}
    for key, value in values.items():
        if key not in known:
            if cls is ProviderConfig:
                options[key] = value  # per-provider keys; the provider validates them
                continue
            raise ConfigError(f"{CONFIG_FILE}: unknown key '{key}' in [{name}] (known: {', '.join(sorted(known))})")
        expected = hints[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"{CONFIG_FILE}: [{name}] {key} must be a {expected.__name__}, not {type(value).__name__} ({value!r})"
            )
        kwargs[key] = value
    if cls is ProviderConfig:
        kwargs["options"] = options
    return cls(**kwargs)


def _check_values(config: Config) -> None:
    if config.email.content not in EMAIL_CONTENT_MODES:
        raise ConfigError(
            f"{CONFIG_FILE}: [email] content must be one of "
            f"{', '.join(EMAIL_CONTENT_MODES)}, not '{config.email.content}'"
        )
    if not config.site.base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{CONFIG_FILE}: [site] base_url must be an absolute http(s) URL, not '{config.site.base_url}'"
        )
    if not config.site.title.strip():
        raise ConfigError(f'{CONFIG_FILE}: [site] title is empty: name the site, e.g. title = "Strong From Within"')
    if config.site.per_page < 1:
        raise ConfigError(f"{CONFIG_FILE}: [site] per_page must be at least 1")
    _check_text_values(config)
    _check_email(config.email)
    _check_audience(config.audience)
    _check_safety(config.safety)
    _check_readers(config.readers)
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(config.email.timezone)
    except Exception as exc:
        raise ConfigError(
            f"{CONFIG_FILE}: [email] timezone '{config.email.timezone}' is not a known time zone (e.g. Europe/London)"
        ) from exc


def _check_readers(readers: ReadersConfig) -> None:
    if readers.url and not re.match(r"^https?://[^/\s]+", readers.url):
        raise ConfigError(f"{CONFIG_FILE}: [readers] url must be an absolute http(s) URL, not '{readers.url}'")
    for key in ("confirm_days", "confirmations_per_day", "posts_per_minute_per_ip"):
        if getattr(readers, key) < 1:
            raise ConfigError(f"{CONFIG_FILE}: [readers] {key} must be at least 1")
    for former in readers.former_base_urls:
        if not (isinstance(former, str) and re.match(r"^https?://[^/\s]+", former)):
            raise ConfigError(
                f"{CONFIG_FILE}: [readers] former_base_urls: {former!r} is not an address like https://old-blog.example.com"
            )
    for origin in readers.allowed_origins:
        if not isinstance(origin, str) or not re.match(r"^https?://[^/\s]+$", origin):
            raise ConfigError(
                f"{CONFIG_FILE}: [readers] allowed_origins: {origin!r} is not an origin like https://blog.example.com"
            )
    for entry in readers.trusted_proxies:
        try:
            if not isinstance(entry, str):
                raise TypeError(entry)
            ipaddress.ip_network(entry, strict=False)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{CONFIG_FILE}: [readers] trusted_proxies: {entry!r} is not an IP address or network "
                'like "127.0.0.1", "::1" or "10.0.0.0/8"'
            ) from None


# Characters no setting may hold: a CR/LF would start a new mail header, the rest break XML and HTML.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
LINE_BREAK = re.compile(r"[\r\n]")
# Settings that end up in a mail header or a URL: one line each.
ONE_LINE_KEYS = {
    "site": ("title", "base_url", "language", "author"),
    "email": ("sender_name", "sender_address", "reply_to", "unsubscribe_url", "timezone"),
    "provider": ("name", "base_url", "signup_url"),
}


def _check_text_values(config: Config) -> None:
    for section in ("site", "email", "provider", "audience"):
        values = getattr(config, section)
        for item in dataclasses.fields(values):
            value = getattr(values, item.name)
            if not isinstance(value, str):
                continue
            one_line = item.name in ONE_LINE_KEYS.get(section, ())
            if CONTROL_CHARACTER.search(value) or (one_line and LINE_BREAK.search(value)):
                what = "a line break" if LINE_BREAK.search(value) else "a control character"
                raise ConfigError(
                    f"{CONFIG_FILE}: [{section}] {item.name} holds {what} ({value!r}); "
                    + ("keep it on one line" if one_line else "remove it")
                )


def _check_email(email: EmailConfig) -> None:
    for key in ("sender_address", "reply_to"):
        address = getattr(email, key)
        if address or key == "sender_address":
            problem = address_problem(address)
            if problem:
                raise ConfigError(f"{CONFIG_FILE}: [email] {key} '{address}' is not an email address: {problem}")
    url = email.unsubscribe_url
    if url and (not url.startswith(("https://", "http://", "mailto:")) or re.search(r'[\s<>"]', url)):
        raise ConfigError(
            f"{CONFIG_FILE}: [email] unsubscribe_url '{url}' must be one https:// (or mailto:) address "
            "with no spaces, quotes or angle brackets"
        )


def address_problem(address: str) -> str:
    """Why `address` is not a usable email address, or "" when it is."""
    from email_validator import EmailNotValidError, validate_email  # here: a command that needs no config check

    try:
        validate_email(address, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        return str(error)
    return ""


def _check_safety(safety: SafetyConfig) -> None:

    if safety.review_max_age_months < 1:
        raise ConfigError(f"{CONFIG_FILE}: [safety] review_max_age_months must be at least 1")
    for pattern in safety.banned_claims:
        if not isinstance(pattern, str) or not pattern.strip():
            raise ConfigError(
                f"{CONFIG_FILE}: [safety] banned_claims must be a list of phrases or "
                f"/regular expressions/, not {pattern!r}"
            )
        try:
            claim_pattern(pattern)
        except re.error as exc:
            raise ConfigError(
                f"{CONFIG_FILE}: [safety] banned_claims: {pattern!r} is not a valid regular expression ({exc})"
            ) from exc


def _check_audience(audience: AudienceConfig) -> None:
    stages = audience.stages
    for stage in stages:
        if not isinstance(stage, str) or not STAGE_NAME.match(stage):
            raise ConfigError(
                f"{CONFIG_FILE}: [audience] stages: {stage!r} is not a stage name; use "
                "lowercase letters, digits and hyphens, "
                'as in stages = ["pregnant", "postpartum-0-6w", "postpartum-6w-plus"]'
            )
    if GENERAL_STAGE in stages:
        raise ConfigError(
            f"{CONFIG_FILE}: [audience] stages: '{GENERAL_STAGE}' is reserved for readers with no stage tag; remove it"
        )
    repeated = sorted({stage for stage in stages if stages.count(stage) > 1})
    if repeated:
        raise ConfigError(f"{CONFIG_FILE}: [audience] stages lists '{repeated[0]}' twice; keep one")
    if audience.pregnant_stage and audience.pregnant_stage not in stages:
        raise ConfigError(
            f"{CONFIG_FILE}: [audience] pregnant_stage '{audience.pregnant_stage}' is "
            f"not one of the stages ({', '.join(stages) or 'none'}); "
            'name one of them, or set pregnant_stage = "" if no stage is pregnant'
        )
    _check_dated_stages(audience)


def _check_dated_stages(audience: AudienceConfig) -> None:
    dated, stages = audience.dated_stages, audience.stages
    explicit = dated != list(DEFAULT_STAGES)
    if dated and (len(dated) != 3 or len(set(dated)) != 3):
        raise ConfigError(
            f"{CONFIG_FILE}: [audience] dated_stages must name three different stages: pregnancy, the first "
            'weeks after the birth, and after them, as in ["pregnant", "postpartum-0-6w", "postpartum-6w-plus"]; '
            "or [] to not move readers by their dates"
        )
    missing = [stage for stage in dated if stage not in stages]
    if missing and explicit:
        raise ConfigError(
            f"{CONFIG_FILE}: [audience] dated_stages: '{missing[0]}' is not one of the stages "
            f"({', '.join(stages) or 'none'}); name one of them"
        )
    if not 1 <= audience.early_postpartum_weeks <= 52:
        raise ConfigError(
            f"{CONFIG_FILE}: [audience] early_postpartum_weeks must be between 1 and 52 (weeks after the birth), "
            f"not {audience.early_postpartum_weeks}"
        )
    if (
        audience.postpartum_end_months * 30 <= audience.early_postpartum_weeks * 7
        or audience.postpartum_end_months > 120
    ):
        raise ConfigError(
            f"{CONFIG_FILE}: [audience] postpartum_end_months must be longer than early_postpartum_weeks "
            f"and at most 120 (months after the birth), not {audience.postpartum_end_months}"
        )


# In a banned-claim phrase, the word N stands for any number, in digits or in words.
_NUMBER = (
    r"(?:\d+(?:[.,]\d+)?|a\s+few"
    r"|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|twenty|thirty)"
)


@lru_cache(maxsize=256)
def claim_pattern(pattern: str) -> re.Pattern:
    """`/regex/` as written; otherwise a phrase: whole words, any case, any spacing, N = a number.
    Raises re.error for a regular expression that does not compile."""
    text = pattern.strip()
    if len(text) > 2 and text.startswith("/") and text.endswith("/"):
        return re.compile(text[1:-1], re.IGNORECASE)
    words = [
        _NUMBER if word == "N" else r"[-\s]?".join(re.escape(part) for part in word.split("-")) for word in text.split()
    ]
    regex = r"\s+".join(words)
    if re.match(r"\w", text):
        regex = r"\b" + regex
    if re.search(r"\w$", text):
        regex += r"\b"
    return re.compile(regex, re.IGNORECASE)
