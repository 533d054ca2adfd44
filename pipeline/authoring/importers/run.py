"""`newsletter import SOURCE`: detect the tool, read every post, write our content files, and
say what happened to each: imported, imported with something to look at, not imported (why).

A second run imports nothing twice: `.newsletter/imports.json` remembers which source became
which file and what was written, so an unchanged post is left alone, a file she edited since is
never overwritten, and a post whose slug another file already has gets a new one only once.
`dry_run` reads and converts everything and writes nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.authoring.importers.exports import (
    Readers,
    is_ghost_export,
    is_substack_export,
    read_ghost,
    read_substack,
)
from pipeline.authoring.importers.headers import read_header
from pipeline.authoring.importers.post import ImportedPost
from pipeline.authoring.importers.sites import MARKDOWN_SUFFIXES, Found, read_site
from pipeline.build.images import picture_file
from pipeline.core.config import Config
from pipeline.core.errors import PipelineError
from pipeline.deliver.subscribers import UNSUBSCRIBED, ImportReport, SubscriberStore, normalise_email
from pipeline.tools.files import atomic_write
from pipeline.tools.fingerprint import digest

TOOLS = ("hugo", "jekyll", "pelican", "zola", "substack", "ghost")
RECORD_FILE = "imports.json"


@dataclass
class Outcome:
    source: str
    path: str = ""  # the content file written (or that would be), relative to the project
    notes: list[str] = field(default_factory=list)
    why: str = ""  # not imported: the reason
    state: str = "imported"  # imported, review, unchanged, kept, not-imported
    is_post: bool = True  # False: a file that is not a post (listed, not counted as a post)


@dataclass
class ImportResult:
    tool: str
    outcomes: list[Outcome] = field(default_factory=list)
    subscribers: ImportReport | None = None
    subscriber_problems: list[str] = field(default_factory=list)
    dry_run: bool = False

    def having(self, *states: str) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.state in states]


def detect_tool(source: Path) -> str:
    """Which tool wrote `source`; raises PipelineError when it cannot tell."""
    if source.is_file():
        if is_ghost_export(source):
            return "ghost"
        if is_substack_export(source):
            return "substack"
        raise PipelineError(f"{source}: not a Ghost export (.json) or a Substack export (.zip): pass --from TOOL")
    if is_substack_export(source):
        return "substack"
    if any(is_ghost_export(path) for path in source.rglob("*.json")):
        return "ghost"
    names = {path.name for path in source.iterdir()}
    if names & {"hugo.toml", "hugo.yaml", "hugo.json", "archetypes"}:
        return "hugo"
    if names & {"pelicanconf.py", "publishconf.py"}:
        return "pelican"
    if names & {"_config.yml", "_posts"} or any(source.rglob("_posts")):
        return "jekyll"
    return _tool_from_headers(source)


def _tool_from_headers(source: Path) -> str:
    """No configuration file: tell from the posts (`+++` headers with [taxonomies] or {{ name() }}
    shortcodes are Zola, `+++` or `---` with {{< >}} Hugo, `Title:` lines Pelican)."""
    votes = dict.fromkeys(TOOLS, 0)
    for path in sorted(p for p in source.rglob("*") if p.suffix.lower() in MARKDOWN_SUFFIXES)[:200]:
        try:
            text = path.read_text(encoding="utf-8")
            kind = read_header(text).kind
        except (UnicodeDecodeError, ValueError):
            continue
        if kind == "pelican":
            votes["pelican"] += 1
        elif "{{<" in text or "{{%" in text or "url:" in text or "lastmod" in text:
            votes["hugo"] += 1
        elif kind == "toml" and ("[taxonomies]" in text or "[extra]" in text or "{{ " in text or "{% end %}" in text):
            votes["zola"] += 1
        elif kind in ("toml", "yaml"):
            votes["hugo"] += 1
    tool, count = max(votes.items(), key=lambda item: item[1])
    if count == 0:
        raise PipelineError(f"{source}: no posts found that Hugo, Jekyll, Pelican or Zola wrote: pass --from TOOL")
    return tool


def import_archive(config: Config, source: Path, tool: str | None = None, dry_run: bool = False) -> ImportResult:
    source = Path(source)
    if not source.exists():
        raise PipelineError(f"{source}: no such file or folder")
    tool = tool or detect_tool(source)
    readers = Readers()
    if tool == "ghost":
        found, readers = read_ghost(source)
    elif tool == "substack":
        found, readers = read_substack(source)
    else:
        if not source.is_dir():
            raise PipelineError(f"{source}: a {tool} site is a folder: give the site's folder")
        found = read_site(source, tool)
    result = ImportResult(tool=tool, dry_run=dry_run)
    writer = _Writer(config, dry_run)
    result.outcomes = [writer.place(item) for item in found]
    writer.save()
    _import_readers(config, readers, result, dry_run)
    return result


class _Writer:
    """Picks each post's file, writes it (and its pictures) unless nothing changed or she edited it."""

    def __init__(self, config: Config, dry_run: bool):
        self.config = config
        self.dry_run = dry_run
        self.record_path = config.state_dir / RECORD_FILE
        self.record: dict = json.loads(self.record_path.read_text()) if self.record_path.is_file() else {}
        self.taken = {path.stem for path in (config.content_dir / "articles").glob("*") if path.is_file()}
        self.claimed: set[str] = set()

    def place(self, item: Found) -> Outcome:
        if item.post is None:
            return Outcome(item.source, why=item.why, state="not-imported", is_post=item.is_post)
        post = item.post
        known = self.record.get(post.source)
        relative = known["path"] if known else self._free_path(post.slug)
        post.slug = Path(relative).stem
        self.claimed.add(post.slug)
        _unfound_pictures(post, relative, self.config)
        _drop_control_characters(post)
        text = post.file_text()
        target = self.config.root / relative
        notes = _review_notes(post)
        state = "review" if notes else "imported"
        if target.is_file():
            current = target.read_text(encoding="utf-8")
            if current == text:
                return Outcome(post.source, relative, notes, state="unchanged")
            if known is None or digest(current) != known["digest"]:
                return Outcome(post.source, relative, ["edited since it was imported: left as it is"], state="kept")
        if not self.dry_run:
            self._write(post, target, text)
            self.record[post.source] = {"path": relative, "digest": digest(text)}
        return Outcome(post.source, relative, notes, state=state)

    def _free_path(self, slug: str) -> str:
        candidate, number = slug, 2
        while candidate in self.taken or candidate in self.claimed:
            candidate, number = f"{slug}-{number}", number + 1
        return f"content/articles/{candidate}.md"

    def _write(self, post: ImportedPost, target: Path, text: str) -> None:
        for picture in post.pictures:
            destination = self.config.content_dir / "images" / post.slug / picture.name
            data = picture.source.read_bytes()
            if not destination.is_file() or destination.read_bytes() != data:
                atomic_write(destination, data)
        atomic_write(target, text.encode("utf-8"))

    def save(self) -> None:
        if not self.dry_run and self.record:
            atomic_write(self.record_path, (json.dumps(self.record, indent=1, sort_keys=True) + "\n").encode())


MARKDOWN_PICTURE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(\s*<?(?P<src>[^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
HTML_PICTURE = re.compile(r"<img\b[^>]*?\bsrc=[\"'](?P<src>[^\"']+)[\"'][^>]*>", re.IGNORECASE)


def _unfound_pictures(post: ImportedPost, relative: str, config: Config) -> None:
    """A picture the archive does not hold would stop every build (a missing picture is an
    error): it becomes a visible note in the text, and the report names it for her to fetch."""
    coming = {config.content_dir / "images" / post.slug / picture.name for picture in post.pictures}

    def missing(src: str) -> bool:
        file = picture_file(config, src, relative)  # what the build would read, found the build's way
        return file is not None and file not in coming and not file.is_file()

    def replace(match: re.Match) -> str:
        src = match.group("src")
        if not missing(src):
            return match.group(0)
        post.notes.append(f"picture {src} is not in the archive: copy it into content/ and put the picture back")
        alt = match.groupdict().get("alt") or ""
        return f"*(picture not found in the archive: {alt + ', ' if alt else ''}{src})*"

    post.body = HTML_PICTURE.sub(replace, MARKDOWN_PICTURE.sub(replace, post.body))


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _drop_control_characters(post: ImportedPost) -> None:
    """Invisible control characters (a NUL some old editor left) are refused by the loader: the
    import drops them and says so."""
    found = 0
    for name in ("title", "summary", "body"):
        text = getattr(post, name)
        cleaned, count = CONTROL_CHARACTERS.subn("", text)
        if count:
            setattr(post, name, cleaned)
            found += count
    if found:
        post.notes.append(f"{found} invisible control character(s) dropped: check the text around them")


def _review_notes(post: ImportedPost) -> list[str]:
    notes = list(post.notes)
    if post.summary_written:
        notes.append("summary written from the first paragraph: read it, it is also the email's preview text")
    return notes


def _import_readers(config: Config, readers: Readers, result: ImportResult, dry_run: bool) -> None:
    if not readers.files and not readers.subscribers:
        return
    valid = []
    for reader in readers.subscribers:
        try:
            valid.append((reader, normalise_email(reader.email)))
        except ValueError as error:
            result.subscriber_problems.append(f"{reader.email}: {error}")
    active = [reader for reader, _ in valid if reader.status != UNSUBSCRIBED]
    leaving = [reader for reader, _ in valid if reader.status == UNSUBSCRIBED]
    if dry_run:
        result.subscribers = ImportReport(
            added=[r.email for r in active], skipped_unsubscribed=[r.email for r in leaving]
        )
        return
    with SubscriberStore.for_config(config) as store:
        # Only new readers are added: one already here keeps what she has (stage, dates, tags).
        known = [reader for reader in active if store.get(reader.email) is not None]
        result.subscribers = store.import_subscribers([r for r in active if r not in known], via="import")
        result.subscribers.unchanged += [reader.email for reader in known]
        for reader in leaving:
            store.unsubscribe(reader.email, via="import")
        result.subscribers.skipped_unsubscribed += [reader.email for reader in leaving]
