"""Readers of static-site folders: Hugo, Jekyll, Pelican and Zola posts -> ImportedPost.

Each reader lists every file it considered, imported or not, with the reason when not (nothing
is skipped silently). What the tools really write is in tests/import_corpus/FORMATS.md; the
mapping is in docs/import.md.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from pipeline.authoring.importers import shortcodes
from pipeline.authoring.importers.dates import file_name_date, our_date, path_date
from pipeline.authoring.importers.headers import HeaderError, read_header
from pipeline.authoring.importers.html import html_to_markdown
from pipeline.authoring.importers.post import (
    ImportedPost,
    Picture,
    demote_headings,
    plain_text,
    post_slug,
    summary_from_body,
    without_summary_markers,
)

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mkdown", ".mkdn", ".mkd")
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif")
LANGUAGE_SUFFIX = re.compile(r"^(?P<stem>.+?)\.(?P<lang>[a-z]{2}(?:-[a-z]{2,4})?)$")
MARKDOWN_LINK_AUTHOR = re.compile(r"\[([^\]]+)\]\([^)]*\)")
LINK_TARGET = re.compile(r"(\]\(|\bsrc=[\"'])(?P<target>[^)\s\"'#]+)(?P<fragment>#[^)\s\"']*)?")
KRAMDOWN_ATTRIBUTES = re.compile(r"^\s*\{:[^}]*\}\s*$", re.MULTILINE)
TITLE_HEADING = re.compile(r"^#\s+(?P<title>.+?)\s*#*\s*$", re.MULTILINE)


@dataclass
class Found:
    """One file a reader considered: its post, or why it is not imported."""

    source: str  # relative to the folder imported
    post: ImportedPost | None = None
    why: str = ""
    is_post: bool = True  # False: a file that is not a post (a section page, a hidden file): listed, not counted


@dataclass
class SourceFile:
    path: Path
    relative: str  # from the imported folder, posix
    meta: dict
    body: str
    body_line: int
    slug: str
    language: str = ""


def read_site(root: Path, tool: str) -> list[Found]:
    files = sorted(path for path in root.rglob("*") if path.is_file() and _is_candidate(path, root, tool))
    found: list[Found] = []
    sources: list[SourceFile] = []
    for path in files:
        relative = path.relative_to(root).as_posix()
        why = _not_a_post(path, relative, tool)
        if why:
            found.append(Found(relative, why=why, is_post=False))
            continue
        try:
            sources.append(_source_file(path, relative, tool))
        except (HeaderError, UnicodeDecodeError) as exc:
            found.append(Found(relative, why=_unreadable(exc)))
    links = _post_links(sources)
    for source in sources:
        found.append(_found(source, root, tool, links))
    return sorted(found, key=lambda item: item.source)


# ---------------------------------------------------------------- which files


def _is_candidate(path: Path, root: Path, tool: str) -> bool:
    parts = path.relative_to(root).parts
    if tool == "jekyll" and _has_posts_folder(root):
        return "_posts" in parts[:-1] or "_drafts" in parts[:-1]
    if tool == "jekyll":  # the folder of posts itself
        return path.suffix.lower() in (*MARKDOWN_SUFFIXES, ".html")
    return path.suffix.lower() in MARKDOWN_SUFFIXES and ("content" in parts[:-1] or "content" not in _top(root))


def _has_posts_folder(root: Path) -> bool:
    return any(path.is_dir() for path in root.rglob("_posts"))


def _top(root: Path) -> set[str]:
    return {child.name for child in root.iterdir()}


def _not_a_post(path: Path, relative: str, tool: str) -> str:
    name = path.name
    if name.startswith("."):
        return f"a hidden file: {tool} ignores it too"
    if tool in ("hugo", "zola") and PurePosixPath(name).stem.split(".")[0] == "_index":
        return "a section's list page (_index), not a post: its posts are imported one by one"
    if tool == "jekyll" and path.suffix.lower() not in (*MARKDOWN_SUFFIXES, ".html"):
        return f"Jekyll does not read {path.suffix or 'a file without an extension'} files in _posts as posts"
    if path.stat().st_size == 0:
        return "an empty file"
    return ""


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text: save it as UTF-8 and import again"
    return f"{exc}: fix the header and import again"


# ---------------------------------------------------------------- reading one file


def _source_file(path: Path, relative: str, tool: str) -> SourceFile:
    header = read_header(path.read_text(encoding="utf-8"))
    meta = {str(key).lower(): value for key, value in header.meta.items()}
    stem = path.stem
    found = LANGUAGE_SUFFIX.match(stem)
    language = ""
    if found and found["lang"] not in ("min",):
        stem, language = found["stem"], found["lang"]
    if stem == "index":
        stem = path.parent.name
    dated = file_name_date(stem)
    if dated:
        stem = dated[1]
    slug = post_slug(str(meta.get("slug") or "")) if meta.get("slug") else post_slug(stem)
    if language:
        slug = f"{slug}-{language}"
    return SourceFile(path, relative, meta, header.body, header.body_line, slug, language)


def _post_links(sources: list[SourceFile]) -> dict[str, str]:
    """Every way another post may name a post (path, file name, Jekyll's post_url name) -> its slug."""
    links: dict[str, str] = {}
    for source in sources:
        relative = PurePosixPath(source.relative)
        names = {source.relative, relative.name, relative.stem, str(relative.with_suffix(""))}
        if "content" in relative.parts:
            inside = PurePosixPath(*relative.parts[relative.parts.index("content") + 1 :])
            names |= {str(inside), str(inside.with_suffix(""))}
            if inside.name.startswith("index"):
                names |= {str(inside.parent), str(inside.parent) + "/"}
        for name in names:
            links.setdefault(name.lower(), source.slug)
    return links


def _found(source: SourceFile, root: Path, tool: str, links: dict[str, str]) -> Found:
    meta, notes = source.meta, []
    date = _date(source, tool, notes)
    undated = date is None
    if undated:  # an about or contact page: kept, but shown to no one until she has looked at it
        date, taken_from = added_date(source.path)
        notes.append(
            f"undated page: imported as a draft dated {date} from {taken_from}: review the date, "
            "then set draft: false to publish it (blog only: newsletter: false)"
        )
    body = source.body
    title = _text(meta.get("title"))
    if not title:
        heading = TITLE_HEADING.search(body)
        if heading:
            title, body = heading["title"], body[: heading.start()] + body[heading.end() :]
        else:
            title = source.path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
            notes.append("no title: made from the file name")
    if source.path.suffix.lower() == ".html":
        converted = html_to_markdown(body)
        body, notes = converted.markdown, notes + converted.notes
    pictures: dict[str, Picture] = {}
    picture = _picture_finder(source, root, pictures)
    context = shortcodes.Context(tool, source.body_line, picture, lambda ref: _post_link(ref, links))
    body = shortcodes.convert(body, context)
    body = _rewrite_links(body, source, picture, links)
    if KRAMDOWN_ATTRIBUTES.search(body):
        body = KRAMDOWN_ATTRIBUTES.sub("", body)
        notes.append("kramdown attribute lines ({: ...}) removed: they have no equivalent here")
    summary, written = _summary(meta, body)
    post = ImportedPost(
        source=source.relative,
        title=title,
        date=date,
        slug=source.slug,
        body=demote_headings(without_summary_markers(body)),
        summary=summary,
        summary_written=written,
        tags=_tags(meta, tool),
        author=_author(meta),
        draft=undated or _is_draft(meta),
        newsletter=not undated,
        aliases=_aliases(source, tool, date, notes),
        pictures=_bundle_pictures(source, tool, pictures),
        notes=notes + context.notes,
    )
    return Found(source.relative, post=post)


def _date(source: SourceFile, tool: str, notes: list[str]) -> str | None:
    written = source.meta.get("date") or source.meta.get("publishdate") or source.meta.get("pubdate")
    if written:
        date = our_date(written)
        if date:
            return date
        notes.append(f"the date '{written}' could not be read: the file name's date was used")
    dated = file_name_date(PurePosixPath(source.relative).stem)
    if dated:
        return dated[0]
    if tool == "zola" and source.meta.get("path"):
        return path_date(str(source.meta["path"]))
    return None


def _summary(meta: dict, body: str) -> tuple[str, bool]:
    for key in ("summary", "description", "excerpt", "subtitle"):
        text = plain_text(_text(meta.get(key)))
        if text:
            return text, False
    return summary_from_body(body)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return str(value).strip()


def _tags(meta: dict, tool: str) -> list[str]:
    written: list = []
    taxonomies = meta.get("taxonomies") if isinstance(meta.get("taxonomies"), dict) else {}
    for key in ("tags", "tag", "categories", "category"):
        for value in (meta.get(key), taxonomies.get(key)):
            if isinstance(value, list):
                written += value
            elif isinstance(value, str) and value.strip():
                separator = "," if tool == "pelican" or "," in value else (None if tool == "jekyll" else "\n")
                written += value.strip("[]").split(separator)
    tags, seen = [], set()
    for tag in (str(item).strip().strip("\"'") for item in written):
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            tags.append(tag)
    return tags


def _author(meta: dict) -> str:
    author = _text(meta.get("author") or meta.get("authors"))
    return MARKDOWN_LINK_AUTHOR.sub(r"\1", author)


def added_date(path: Path) -> tuple[str, str]:
    """(day, where it came from) for a file that names no date: the day git says it was added,
    else its modification time (a fresh clone's is the day of the clone)."""
    try:
        log = subprocess.run(
            ["git", "log", "--follow", "--diff-filter=A", "--format=%aI", "--", path.name],
            cwd=path.parent,
            capture_output=True,
            text=True,
            timeout=30,
        )
        added = log.stdout.split()
        if log.returncode == 0 and added and our_date(added[-1]):
            return our_date(added[-1])[:10], "the file's git history"
    except (OSError, subprocess.SubprocessError):
        pass
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).date().isoformat(), "the file's time"


def _is_draft(meta: dict) -> bool:
    return (
        meta.get("draft") in (True, "true", "True")
        or meta.get("published") in (False, "false")
        or str(meta.get("status", "")).lower() in ("draft", "hidden")
    )


# ---------------------------------------------------------------- old addresses


def _aliases(source: SourceFile, tool: str, date: str, notes: list[str]) -> list[str]:
    meta = source.meta
    written: list[str] = []
    for key in ("aliases", "redirect_from"):
        value = meta.get(key)
        written += value if isinstance(value, list) else ([value] if value else [])
    old = _old_address(source, tool, date)
    if old:
        written.append(old)
    section = _section(source)
    aliases: list[str] = []
    for alias in (str(item) for item in written):
        path = _site_path(alias, section)
        if path is None:
            notes.append(f"the old address '{alias}' cannot become a redirect (a pattern, or outside the site)")
        elif path not in aliases and path.strip("/") != f"articles/{source.slug}":
            aliases.append(path)
    return aliases


def _old_address(source: SourceFile, tool: str, date: str) -> str:
    """Where the post lived on the old site, so links to it keep working."""
    meta, slug = source.meta, source.slug
    if tool == "hugo":
        return str(meta.get("url") or f"/{_section(source)}/{slug}/".replace("//", "/"))
    if tool == "zola":
        return str(meta.get("path") or f"/{_section(source)}/{slug}/".replace("//", "/"))
    if tool == "pelican":
        return f"/{meta.get('slug') or slug}.html"
    if tool == "jekyll":
        permalink = str(meta.get("permalink") or "/:categories/:year/:month/:day/:title.html")
        categories = "/".join(_tags({"categories": meta.get("categories") or meta.get("category")}, "jekyll"))
        year, month, day = date[:10].split("-")
        title = file_name_date(PurePosixPath(source.relative).stem)
        for placeholder, value in (
            (":categories", categories.lower()),
            (":year", year),
            (":month", month),
            (":day", day),
            (":title", title[1] if title else slug),
        ):
            permalink = permalink.replace(placeholder, value)
        return re.sub(r"/{2,}", "/", "/" + permalink)
    return ""


def _section(source: SourceFile) -> str:
    """The folder a Hugo or Zola post sits in under content/ (its old URL's section)."""
    parts = PurePosixPath(source.relative).parts
    inside = parts[parts.index("content") + 1 : -1] if "content" in parts else parts[:-1]
    if source.path.stem.startswith("index") and inside:
        inside = inside[:-1]
    if inside and re.fullmatch(r"[a-z]{2}", inside[0]):  # content/en/blog: the language is not in the URL
        inside = inside[1:]
    return "/".join(inside)


def _site_path(alias: str, section: str) -> str | None:
    """An old address as a path on our blog ("blog/2022/05/x/"), or None when it cannot be one."""
    path = unquote(urlsplit(alias).path)
    if "*" in path or any(part == ".." for part in path.split("/")):
        return None
    if not path.startswith("/") and section and not alias.startswith(("http://", "https://")):
        path = f"{section}/{path}"
    path = path.strip("/")
    if not path:
        return None
    return path if PurePosixPath(path).suffix else path + "/"


# ---------------------------------------------------------------- pictures and links


def _picture_finder(source: SourceFile, root: Path, pictures: dict[str, Picture]):
    """A function: a picture's address as written -> its path from the imported post (the picture
    is copied to content/images/<slug>/), or None when it is not a file of the site."""
    folder = source.path.parent

    def picture(written: str) -> str | None:
        address = unquote(written.strip())
        for prefix in ("{static}", "{attach}", "{filename}"):
            address = address.removeprefix(prefix)
        if urlsplit(address).scheme or not address:
            return None
        candidates = [folder / address.lstrip("/")] if not address.startswith("/") else []
        candidates += [base / address.lstrip("/") for base in _bases(source.path, root)]
        if "." not in PurePosixPath(address).name:  # Hugo's imgproc names a bundle resource without its extension
            candidates += sorted(folder.glob(address + ".*"))
        for candidate in candidates:
            if candidate.is_file() and candidate.suffix.lower() in PICTURE_SUFFIXES and _inside(candidate, root):
                name = candidate.name
                pictures.setdefault(name, Picture(candidate, name))
                return f"../images/{source.slug}/{name}"
        return None

    return picture


def _bases(path: Path, root: Path) -> list[Path]:
    """Folders a site-absolute address may start from: content/, static/ and the site's root."""
    bases = [root]
    for parent in path.parents:
        if parent.name == "content":
            bases += [parent, parent.parent / "static", parent.parent]
        if parent == root:
            break
    return bases


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _bundle_pictures(source: SourceFile, tool: str, pictures: dict[str, Picture]) -> list[Picture]:
    """The pictures the post uses, and every picture of a page bundle (a theme may show them unreferenced)."""
    if tool in ("hugo", "zola") and source.path.stem.startswith("index"):
        for candidate in sorted(source.path.parent.iterdir()):
            if candidate.is_file() and candidate.suffix.lower() in PICTURE_SUFFIXES:
                pictures.setdefault(candidate.name, Picture(candidate, candidate.name))
    return list(pictures.values())


def _post_link(reference: str, links: dict[str, str]) -> str | None:
    """Another post, as Hugo's ref, Jekyll's post_url or Zola's @/ names it -> "its-slug.md"."""
    written = reference.strip().strip("\"'").removeprefix("@/").removeprefix("/")
    path, _, fragment = written.partition("#")
    for name in (path, path.rstrip("/"), str(PurePosixPath(path).with_suffix("")), PurePosixPath(path).name):
        slug = links.get(name.lower())
        if slug:
            return f"{slug}.md" + (f"#{fragment}" if fragment else "")
    return None


def _rewrite_links(body: str, source: SourceFile, picture, links: dict[str, str]) -> str:
    """Zola's `@/` and Pelican's `{filename}` links to posts, and pictures of the site, as our paths."""

    def rewrite(match: re.Match) -> str:
        target, fragment = match["target"], match["fragment"] or ""
        if target.startswith(("@/", "{filename}")):
            linked = _post_link(target.removeprefix("{filename}") + fragment, links)
            if linked:
                return match.group(1) + linked
        if PurePosixPath(unquote(target)).suffix.lower() in PICTURE_SUFFIXES:
            copied = picture(target)
            if copied:
                return match.group(1) + copied + fragment
        return match.group(0)

    return LINK_TARGET.sub(rewrite, body)
