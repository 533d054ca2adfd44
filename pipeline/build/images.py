"""The pictures a build shows, prepared before anything is rendered: every picture an article or
exercise card shows (the `image` of an article's front matter, `![alt](path)` and `<img src>` in
bodies) is resized and recompressed by pipeline/tools/images.py, cached by content hash in
.newsletter/cache/images/, and handed to the renderers as `Pictures`.

A picture that is missing, unreadable, over 25 MB or over 40 megapixels is a ContentError at the
file and line that shows it; every such error is collected before the build stops, and since
this runs before rendering, dist/ is never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.content.frontmatter import key_lines
from pipeline.core.config import Config
from pipeline.core.errors import ContentError, ContentErrors
from pipeline.core.model import Content
from pipeline.core.urls import CONTENT_MEDIA, resolve_content_link
from pipeline.render.images import variant_files
from pipeline.tools.cache_store import CACHE_FOLDER
from pipeline.tools.fingerprint import digest
from pipeline.tools.images import ImageProblem, ImageStore, PreparedImage, Variant
from pipeline.tools.parallel import parallel_map
from pipeline.tools.progress import track

IMAGES_FOLDER = "images"  # under .newsletter/cache/
RESIZED_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")  # other files (GIF, SVG) are copied as they are
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^\s)>]+)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)", re.IGNORECASE)


@dataclass(frozen=True)
class PictureUse:
    site_path: str  # "images/x.jpg"
    path: str  # the content file that shows it
    line: int | None  # None: the `image` key of its front matter, found only for an error message
    href: str  # as written


@dataclass
class PreparedPictures:
    pictures: dict[str, PreparedImage] = field(default_factory=dict)  # site path -> variants
    errors: list[ContentError] = field(default_factory=list)  # with strict=False: the pictures left out
    store: ImageStore | None = field(default=None, repr=False, compare=False)  # where the variants are

    @property
    def variants(self) -> dict[str, Variant]:
        """Every variant file the site serves, by site path."""
        return variant_files(self.pictures)

    def cached_file(self, variant: Variant) -> Path:
        """The file of `variant` in the picture cache."""
        assert self.store is not None, "pictures kept by the build cache name no store"
        return self.store.path_of(variant)

    def without_store(self) -> PreparedPictures:
        """What the build cache keeps (pipeline/build/rebuild.py): the pictures, not where their files are."""
        return PreparedPictures(self.pictures, self.errors)

    @property
    def key(self) -> str:
        """Stands for every picture on the site: pages showing pictures depend on it."""
        return digest(repr(sorted((path, picture.digest) for path, picture in self.pictures.items())))


def image_store(config: Config) -> ImageStore:
    return ImageStore(config.state_dir / CACHE_FOLDER / IMAGES_FOLDER)


def picture_uses(content: Content) -> list[PictureUse]:
    """Every picture the published articles and the exercise cards show, where it is written."""
    sources = [a.source.path for a in content.published_articles()] + [
        e.source.path for e in content.exercises.values()
    ]
    images = {article.source.path: article.image for article in content.articles if article.image}
    uses = []
    for path in sources:
        if path in images:
            uses.append(_use(images[path], path, None))
        uses += text_picture_uses(content.source_texts.get(path, ""), path)
    return [use for use in uses if use is not None]


def _line(use: PictureUse, content: Content) -> int:
    """The line of the use; for a front matter `image`, the line of that key (parsing the front
    matter again, which only an error message needs)."""
    if use.line is not None:
        return use.line
    return key_lines(content.source_texts.get(use.path, ""), use.path).get("image", 1)


def text_picture_uses(text: str, path: str) -> list[PictureUse]:
    if "![" not in text and "<" not in text:
        return []
    uses = []
    for number, line in enumerate(text.splitlines(), start=1):
        if "![" not in line and ("<" not in line or "<img" not in line.lower()):
            continue
        for match in [*_MARKDOWN_IMAGE.finditer(line), *_HTML_IMAGE.finditer(line)]:
            uses.append(_use(match.group(1), path, number))
    return [use for use in uses if use is not None]


def _use(href: str, path: str, line: int | None) -> PictureUse | None:
    site_path = resolve_content_link(href, path)
    if site_path is None or "#" in site_path or not site_path.lower().endswith(RESIZED_SUFFIXES):
        return None
    return PictureUse(site_path, path, line, href)


def prepare_pictures(
    config: Config, content: Content, store: ImageStore | None = None, strict: bool = True
) -> PreparedPictures:
    """Every picture shown, prepared (from the cache when its file is untouched); raises
    ContentErrors naming each picture that cannot be used (`strict=False`, for check: lists them
    in `errors` and prepares the rest)."""
    store = store or image_store(config)
    uses = picture_uses(content)
    by_site_path: dict[str, list[PictureUse]] = {}
    for use in uses:
        by_site_path.setdefault(use.site_path, []).append(use)
    prepared: dict[str, PreparedImage] = {}
    problems: dict[str, str] = {}
    missing: list[str] = []
    for site_path in sorted(by_site_path):
        try:
            cached = store.cached(_file(config, site_path))
        except ImageProblem as problem:
            problems[site_path] = str(problem)
            continue
        if cached is None:
            missing.append(site_path)
        else:
            prepared[site_path] = cached
    clock = store.clock() if missing else 0  # before any picture is read
    made = parallel_map(
        lambda site_path: _make(store, _file(config, site_path), clock),
        missing,
        min_items=4,
        progress=lambda items: track(items, "Resizing pictures"),
    )
    for site_path, outcome in zip(missing, made, strict=True):
        if isinstance(outcome, str):
            problems[site_path] = outcome
        else:
            stamp, picture = outcome
            store.remember(_file(config, site_path), stamp, picture)
            prepared[site_path] = picture
    store.save()
    errors = [
        ContentError(use.path, _line(use, content), f"the picture '{use.href}' {problems[site_path]}")
        for site_path in problems
        for use in by_site_path[site_path]
    ]
    if errors and strict:
        raise ContentErrors(errors)
    return PreparedPictures(prepared, errors, store)


def picture_file(config: Config, href: str, path: str) -> Path | None:
    """The file the build reads for a picture written as `href` in the content file `path`, or
    None when the build leaves that address alone (a web address, a kind it does not resize)."""
    use = _use(href, path, 0)
    return None if use is None else _file(config, use.site_path)


def _file(config: Config, site_path: str) -> Path:
    return config.root / CONTENT_MEDIA / site_path


def _make(store: ImageStore, picture: Path, clock: int) -> tuple[str, PreparedImage] | str:
    try:
        return store.make(picture, clock)
    except ImageProblem as problem:
        return str(problem)
