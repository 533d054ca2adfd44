"""Readers of exports: a Ghost JSON export (and its members CSV), a Substack export folder or
zip (posts.csv + posts/<id>.<slug>.html, and its email list CSV).

Posts' HTML becomes our Markdown (html.py, markdownify); readers become subscribers, and a
reader who had unsubscribed there stays unsubscribed here (deliver/subscribers.py).
"""

from __future__ import annotations

import csv
import html
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pipeline.authoring.importers.dates import our_date, utc_date
from pipeline.authoring.importers.html import html_to_markdown
from pipeline.authoring.importers.post import ImportedPost, plain_text, post_slug, summary_from_body
from pipeline.authoring.importers.sites import Found
from pipeline.content.fields import slugify
from pipeline.deliver.subscribers import ACTIVE, UNSUBSCRIBED, Subscriber


@dataclass
class Readers:
    """Subscribers found in an export, and the files they came from."""

    subscribers: list[Subscriber] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- Ghost


def is_ghost_export(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    return _ghost_data(data) is not None


def _ghost_data(data) -> dict | None:
    if isinstance(data, dict) and isinstance(data.get("db"), list) and data["db"]:
        data = data["db"][0]
    if isinstance(data, dict) and isinstance(data.get("data"), dict) and "posts" in data["data"]:
        return data["data"]
    if isinstance(data, dict) and isinstance(data.get("posts"), list):  # an Admin API answer
        return {"posts": data["posts"]}
    return None


def read_ghost(root: Path) -> tuple[list[Found], Readers]:
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    found: list[Found] = []
    readers = Readers()
    for path in files:
        relative = path.name if root.is_file() else path.relative_to(root).as_posix()
        if path.suffix.lower() == ".json":
            data = _ghost_data(_json(path))
            if data is None:
                found.append(Found(relative, why="not a Ghost export (no posts in it)", is_post=False))
                continue
            found += _ghost_posts(data, relative)
            readers.subscribers += _ghost_subscribers(data)
        elif path.suffix.lower() == ".csv":
            _members_csv(path, relative, readers, found)
    return found, readers


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def _ghost_posts(data: dict, file: str) -> list[Found]:
    tags = {tag.get("id"): tag.get("name") for tag in data.get("tags", []) or []}
    users = {user.get("id"): user.get("name") for user in data.get("users", []) or []}
    post_tags: dict = {}
    for link in sorted(data.get("posts_tags", []) or [], key=lambda row: row.get("sort_order") or 0):
        post_tags.setdefault(link.get("post_id"), []).append(tags.get(link.get("tag_id")))
    post_authors: dict = {}
    for link in sorted(data.get("posts_authors", []) or [], key=lambda row: row.get("sort_order") or 0):
        post_authors.setdefault(link.get("post_id"), []).append(users.get(link.get("author_id")))
    permalink = next(
        (row.get("value") for row in data.get("settings", []) or [] if row.get("key") == "permalinks"), "/:slug/"
    )
    found = []
    for row in data.get("posts", []) or []:
        source = f"{file}: post '{row.get('slug') or row.get('id')}'"
        if row.get("page") in (1, True) or row.get("type") == "page":
            why = "a Ghost page, not a post: copy its text by hand if you need it"
            found.append(Found(source, why=why, is_post=False))
            continue
        authors = post_authors.get(row.get("id")) or [users.get(row.get("author_id"))]
        found.append(_ghost_post(row, source, post_tags.get(row.get("id"), []), authors, permalink))
    return found


def _ghost_post(row: dict, source: str, tags: list, authors: list, permalink: str) -> Found:
    notes: list[str] = []
    body_html = row.get("html")
    if body_html:
        converted = html_to_markdown(body_html.replace("__GHOST_URL__", ""))
        body, notes = converted.markdown, converted.notes
    elif row.get("markdown"):
        body = row["markdown"]
    elif row.get("plaintext"):
        body = row["plaintext"]
        notes.append("only the plain text was in the export: formatting and pictures are lost")
    else:
        return Found(source, why="the export holds no text for it (lexical only): export again from a newer Ghost")
    draft = row.get("status") != "published"
    date = utc_date(row.get("published_at") or row.get("created_at") or "")
    if date is None:
        return Found(source, why="no publication or creation date in the export")
    slug = post_slug(row.get("slug") or row.get("title") or "")
    summary = plain_text(row.get("custom_excerpt") or row.get("meta_description") or "")
    written = False
    if not summary:
        summary, written = summary_from_body(body)
    if row.get("feature_image") or row.get("image"):
        notes.append(
            f"cover picture {row.get('feature_image') or row.get('image')} not copied: the export has no pictures"
        )
    if "/content/images/" in body:
        notes.append("pictures under /content/images/ are not in the export: copy them from the old site to content/")
    old = permalink.replace(":slug", slug)
    if ":year" in old or ":month" in old or ":day" in old:
        old = old.replace(":year", date[:4]).replace(":month", date[5:7]).replace(":day", date[8:10])
    post = ImportedPost(
        source=source,
        title=str(row.get("title") or slug),
        date=date,
        slug=slug,
        body=body,
        summary=summary,
        summary_written=written,
        tags=[tag for tag in tags if tag],
        author=", ".join(name for name in authors if name),
        draft=draft,
        aliases=[old.strip("/") + "/"] if old.strip("/") and old.strip("/") != f"articles/{slug}" else [],
        notes=notes,
    )
    return Found(source, post=post)


def _ghost_subscribers(data: dict) -> list[Subscriber]:
    """Ghost 1.x-3.x kept subscribers in the export itself."""
    readers = []
    for row in data.get("subscribers", []) or []:
        if row.get("email"):
            status = UNSUBSCRIBED if row.get("status") == "unsubscribed" else ACTIVE
            readers.append(Subscriber(email=row["email"].strip(), name=row.get("name") or "", status=status))
    return readers


def _members_csv(path: Path, relative: str, readers: Readers, found: list[Found]) -> None:
    """Ghost's members export: email, name, subscribed_to_emails, labels."""
    rows = _csv_rows(path.read_text(encoding="utf-8-sig"))
    if not rows or "email" not in rows[0]:
        found.append(Found(relative, why="a CSV without an 'email' column: not a Ghost members export", is_post=False))
        return
    readers.files.append(relative)
    for row in rows:
        if not (row.get("email") or "").strip():
            continue
        status = UNSUBSCRIBED if (row.get("subscribed_to_emails") or "").strip().lower() == "false" else ACTIVE
        labels = tuple(
            dict.fromkeys(slugify(label) for label in (row.get("labels") or "").split(",") if slugify(label))
        )
        readers.subscribers.append(
            Subscriber(email=row["email"].strip(), name=(row.get("name") or "").strip(), tags=labels, status=status)
        )


def _csv_rows(text: str) -> list[dict]:
    return [
        {(key or "").strip().lower(): value for key, value in row.items()} for row in csv.DictReader(io.StringIO(text))
    ]


# ---------------------------------------------------------------- Substack


def is_substack_export(path: Path) -> bool:
    if path.is_file() and path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            return any(PurePosixPath(name).name == "posts.csv" for name in archive.namelist())
    return path.is_dir() and any(path.rglob("posts.csv"))


def read_substack(root: Path) -> tuple[list[Found], Readers]:
    files = _substack_files(root)
    found: list[Found] = []
    readers = Readers()
    for name in sorted(files):
        if PurePosixPath(name).name == "posts.csv":
            found += _substack_posts(name, files)
        elif name.endswith(".csv") and "/posts/" not in f"/{name}":
            _email_list(name, files[name](), readers, found)
    return found, readers


def _substack_files(root: Path) -> dict:
    """{name in the export: a function returning its text}, from a zip or a folder."""
    if root.is_file():
        archive = zipfile.ZipFile(root)
        return {name: (lambda name=name: archive.read(name).decode("utf-8-sig")) for name in archive.namelist()}
    return {
        path.relative_to(root).as_posix(): (lambda path=path: path.read_text(encoding="utf-8-sig"))
        for path in root.rglob("*")
        if path.is_file()
    }


def _substack_posts(csv_name: str, files: dict) -> list[Found]:
    folder = str(PurePosixPath(csv_name).parent)
    prefix = "" if folder == "." else folder + "/"
    found = []
    for row in _csv_rows(files[csv_name]()):
        post_id = (row.get("post_id") or "").strip()
        source = f"{csv_name}: {post_id}"
        if (row.get("type") or "newsletter") == "page":
            why = "a Substack page, not a post: copy its text by hand if you need it"
            found.append(Found(source, why=why, is_post=False))
            continue
        html_name = f"{prefix}posts/{post_id}.html"
        if html_name not in files:
            found.append(Found(source, why=f"its text {html_name} is not in the export"))
            continue
        found.append(_substack_post(row, source, files[html_name]()))
    return found


def _substack_post(row: dict, source: str, body_html: str) -> Found:
    converted = html_to_markdown(body_html)
    notes = list(converted.notes)
    date = our_date(row.get("post_date") or row.get("email_sent_at") or "")
    if date is None:
        return Found(
            source, why="no post_date in posts.csv (a draft never dated): date it on Substack, or write it here"
        )
    slug_part = (row.get("post_id") or "").partition(".")[2]
    title = html.unescape(row.get("title") or "").strip() or slug_part
    subtitle = plain_text(html.unescape(row.get("subtitle") or ""))
    summary, written = (subtitle, False) if subtitle else summary_from_body(converted.markdown)
    if row.get("podcast_url"):
        converted.markdown += f"\n[Listen to the episode]({row['podcast_url']})\n"
        notes.append("a podcast: the audio stays on Substack, linked at the end")
    if "substack-post-media" in converted.markdown or "substackcdn" in converted.markdown:
        notes.append("pictures still load from Substack's servers: download them into content/ to keep them")
    post = ImportedPost(
        source=source,
        title=title,
        date=date,
        slug=post_slug(title) if slug_part.isdigit() or not slug_part else post_slug(slug_part),
        body=converted.markdown,
        summary=summary,
        summary_written=written,
        draft=(row.get("is_published") or "").strip().lower() != "true",
        aliases=[f"p/{post_slug(slug_part)}/"] if slug_part else [],
        notes=notes,
    )
    return Found(source, post=post)


def _email_list(name: str, text: str, readers: Readers, found: list[Found]) -> None:
    """Substack's email list: email, active_subscription, email_disabled, ..."""
    rows = _csv_rows(text)
    if not rows or "email" not in rows[0]:
        found.append(Found(name, why="a CSV without an 'email' column: not a Substack email list", is_post=False))
        return
    readers.files.append(name)
    for row in rows:
        if (row.get("email") or "").strip():
            disabled = (row.get("email_disabled") or "").strip().lower() == "true"
            readers.subscribers.append(
                Subscriber(email=row["email"].strip(), status=UNSUBSCRIBED if disabled else ACTIVE)
            )
