"""Pictures resized and recompressed once, by content hash, with Pillow.

`ImageStore.prepare(path)` returns the variants of one picture: one for email (at most
EMAIL_MAX_WIDTH wide, JPEG or PNG by content) and, for the blog, each of BLOG_WIDTHS the picture
is wider than (and its own width, up to the largest) in WebP, with the email's JPEG or PNG as
the one fallback (only browsers without WebP, none current, load it: one file, not one a width,
so a site of 200 pictures has 1,000 variant files to carry from build to build, not 1,600).
Variants live in the store's folder named by the hash of the picture's bytes and of RECIPE, so a
picture is only ever processed once, whatever its name, across builds.

A warm build must not hash every photo again (200 phone photos are about a gigabyte): an index
of (path, size, mtime) -> hash answers for files that were not touched since, and each hash's
sizes sit beside it in the same index, so a warm `prepare` is one `stat` and never opens the
picture. Saving a file gives it a new mtime, so an edit is noticed even at the same size; a file
saved moments before it was read is not trusted by its stamp (see `_stamp`: git's "racy" rule).

Nothing here knows about the newsletter; a problem with a picture is an ImageProblem saying
what is wrong, which the caller turns into a file:line error.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.tools.files import SETTLED_NS

EMAIL_MAX_WIDTH = 1200  # twice the email's 600 px column, for retina screens
BLOG_WIDTHS = (480, 800, 1200, 1600)
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 40_000_000
JPEG_QUALITY = 82
WEBP_QUALITY = 78
RECIPE = f"2|{EMAIL_MAX_WIDTH}|{BLOG_WIDTHS}|{JPEG_QUALITY}|{WEBP_QUALITY}"  # change it to redo every variant
INDEX_FILE = "index.json"
ORIENTATION_TAG = 0x0112  # EXIF: how the camera was held
TURNING_ORIENTATIONS = {5, 6, 7, 8}  # a quarter turn: width and height swap


class ImageProblem(Exception):
    """A picture that cannot be used: missing, unreadable, or too big. The message says which."""


@dataclass(frozen=True)
class Variant:
    name: str  # file name in the store: <hash>-<width>.<ext>
    width: int
    height: int
    format: str  # "jpeg", "png" or "webp"
    size: int  # bytes


@dataclass(frozen=True)
class PreparedImage:
    digest: str
    width: int  # of the picture as written (after its EXIF rotation)
    height: int
    source_bytes: int
    email: Variant
    blog: tuple[Variant, ...]  # WebP, narrowest first
    fallback: tuple[Variant, ...]  # JPEG or PNG for browsers without WebP: the email variant


class ImageStore:
    """The variants of every picture prepared so far, in `folder` (part of the build cache)."""

    def __init__(self, folder: Path, scratch: Path | None = None):
        """`scratch`: a read-only store (for `check`, which writes nothing): pictures not in
        `folder` yet are made in `scratch`, and the index is never saved."""
        self.folder = Path(folder)
        self.scratch = Path(scratch) if scratch else None
        self._index: dict | None = None
        self._names: set[str] | None = None  # files in `folder`, listed once
        self._dirty = False

    def _holds(self, variant: Variant) -> bool:
        """Whether the variant's file is in the store: one listing of the folder for a whole
        build, not a `stat` for each picture."""
        if self._names is None:
            try:
                with os.scandir(self.folder) as entries:
                    self._names = {entry.name for entry in entries}
            except OSError:
                self._names = set()
        return variant.name in self._names or self.path_of(variant).is_file()

    def path_of(self, variant: Variant) -> Path:
        made_here = self.scratch is not None and (self.scratch / variant.name).is_file()
        return (self.scratch if made_here else self.folder) / variant.name

    def prepare(self, picture: Path) -> PreparedImage:
        """The variants of `picture`, made now unless the store has them already."""
        cached = self.cached(picture)
        if cached is not None:
            return cached
        stamp, prepared = self.make(picture, self.clock())
        self.remember(picture, stamp, prepared)
        return prepared

    def cached(self, picture: Path) -> PreparedImage | None:
        """The variants of a picture not touched since it was prepared: a `stat`, no reading."""
        stat = _checked_stat(picture)
        known = self._load_index()["files"].get(str(picture))
        if not known or known[0] != _stamp(stat) or known[1] not in self._index["images"]:
            return None
        prepared = _from_json(self._index["images"][known[1]])
        return prepared if self._holds(prepared.email) else None

    def clock(self) -> int:
        """The file system's time now (ns), for `make`: the mtime of a file written for it (the
        machine's clock may differ from a network disk's)."""
        output = self.scratch or self.folder
        output.mkdir(parents=True, exist_ok=True)
        probe = output / f".clock.{os.getpid()}"
        probe.write_bytes(b"")
        try:
            return probe.stat().st_mtime_ns
        finally:
            probe.unlink(missing_ok=True)

    def make(self, picture: Path, clock_ns: int) -> tuple[str, PreparedImage]:
        """Hash the picture and make its variants unless a picture with the same bytes has them
        (renamed or copied); with the stamp of the file as it was read (`_stamp`: `clock_ns`, from
        `clock()` before the read). Writes only variant files, so it can run in a worker process;
        `remember` then records the result."""
        stamp = _stamp(_checked_stat(picture), clock_ns)
        data = _read(picture)
        digest = hashlib.sha256(RECIPE.encode() + b"\0" + data).hexdigest()[:20]
        stored = self._load_index()["images"].get(digest)
        prepared = _from_json(stored) if stored else None
        if prepared is None or not all(self.path_of(variant).is_file() for variant in _variants(prepared)):
            prepared = self._make_variants(picture, data, digest)
        return stamp, prepared

    def remember(self, picture: Path, stamp: str, prepared: PreparedImage) -> None:
        """Record what `make` found for `picture`, under the stamp it read the file at."""
        index = self._load_index()
        entry = [stamp, prepared.digest]
        if index["files"].get(str(picture)) != entry or prepared.digest not in index["images"]:
            index["images"][prepared.digest] = asdict(prepared)
            index["files"][str(picture)] = entry
            self._dirty = True

    def save(self) -> None:
        """Write the index, if anything was added (a crash before this only costs a re-hash)."""
        if not self._dirty or self._index is None or self.scratch is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        scratch = self.folder / f".{INDEX_FILE}.{os.getpid()}"
        scratch.write_text(json.dumps(self._index, separators=(",", ":")), encoding="utf-8")
        os.replace(scratch, self.folder / INDEX_FILE)
        self._dirty = False

    def _load_index(self) -> dict:
        if self._index is None:
            try:
                loaded = json.loads((self.folder / INDEX_FILE).read_text(encoding="utf-8"))
                ok = isinstance(loaded, dict) and loaded.get("recipe") == RECIPE
            except (OSError, ValueError):
                ok = False
            self._index = loaded if ok else {"recipe": RECIPE, "files": {}, "images": {}}
        return self._index

    def _make_variants(self, picture: Path, data: bytes, digest: str) -> PreparedImage:
        image = _open(picture)
        try:
            turned = image.getexif().get(ORIENTATION_TAG) in TURNING_ORIENTATIONS
            width, height = (image.height, image.width) if turned else image.size
            fallback_format = _fallback_format(image)
            largest = min(width, max(BLOG_WIDTHS))
            if image.format == "JPEG":  # decode at 1/2, 1/4 ... of the size when that is still wide enough
                shown = (largest, max(1, round(height * largest / width)))
                image.draft("RGB", shown[::-1] if turned else shown)
            image = ImageOps.exif_transpose(image)
            image.load()
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise ImageProblem(f"cannot be read ({exc}): save it again as JPEG or PNG") from exc
        image = image.convert("RGBA" if fallback_format == "png" and _has_alpha(image) else "RGB")
        output = self.scratch or self.folder
        output.mkdir(parents=True, exist_ok=True)
        widths = sorted({w for w in BLOG_WIDTHS if w < width} | {largest})
        email_width = min(width, EMAIL_MAX_WIDTH)
        made: dict[tuple[int, str], Variant] = {}
        for target in sorted({*widths, email_width}, reverse=True):
            image = _resized(image, target)  # each from the last, largest first: cheaper, as sharp
            formats = (["webp"] if target in widths else []) + ([fallback_format] if target == email_width else [])
            for fmt in formats:
                made[(target, fmt)] = self._write(image, digest, fmt, output)
        return PreparedImage(
            digest=digest,
            width=width,
            height=height,
            source_bytes=len(data),
            email=made[(email_width, fallback_format)],
            blog=tuple(made[(w, "webp")] for w in widths),
            fallback=(made[(email_width, fallback_format)],),
        )

    def _write(self, image: Image.Image, digest: str, fmt: str, folder: Path) -> Variant:
        extension = {"jpeg": "jpg", "png": "png", "webp": "webp"}[fmt]
        name = f"{digest}-{image.width}.{extension}"
        target = folder / name
        scratch = folder / f".{name}.{os.getpid()}"
        options = {
            "jpeg": {"quality": JPEG_QUALITY, "optimize": True, "progressive": True},
            "png": {"optimize": True},
            "webp": {"quality": WEBP_QUALITY, "method": 4},
        }[fmt]
        image.save(scratch, format=fmt.upper(), **options)
        os.replace(scratch, target)
        return Variant(name, image.width, image.height, fmt, target.stat().st_size)


def _checked_stat(picture: Path) -> os.stat_result:
    try:
        stat = picture.stat()
    except FileNotFoundError as exc:
        raise ImageProblem("does not exist: check the path, written from this file") from exc
    except OSError as exc:
        raise ImageProblem(f"cannot be read ({exc.strerror})") from exc
    if stat.st_size > MAX_FILE_BYTES:
        raise ImageProblem(
            f"is {stat.st_size / 1024 / 1024:.1f} MB; pictures may be at most {MAX_FILE_BYTES // 1024 // 1024} MB: "
            "export it smaller (2400 px wide is plenty)"
        )
    return stat


def _stamp(stat: os.stat_result, clock_ns: int | None = None) -> str:
    """What the index trusts instead of the bytes, like git's index: size and mtime. `clock_ns`
    (the file system's time before the file is read for its hash): a file saved within
    SETTLED_NS of that may be saved again in the same clock tick at the same size, invisibly to
    `stat` - its stamp then never matches, so the next build reads it again (and trusts it from
    then on)."""
    if clock_ns is not None and stat.st_mtime_ns >= clock_ns - SETTLED_NS:
        return f"{stat.st_size}|unsettled"
    return f"{stat.st_size}|{stat.st_mtime_ns}"


def _read(picture: Path) -> bytes:
    try:
        return picture.read_bytes()
    except OSError as exc:
        raise ImageProblem(f"cannot be read ({exc.strerror})") from exc


def _open(picture: Path) -> Image.Image:
    try:
        with warnings.catch_warnings():  # our own limit, below, says it better
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(picture)
    except Image.DecompressionBombError as exc:
        raise ImageProblem(_too_many_pixels(None)) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageProblem("is not a picture Pillow can read: save it again as JPEG or PNG") from exc
    if image.width * image.height > MAX_PIXELS:
        raise ImageProblem(_too_many_pixels(image.size))
    return image


def _too_many_pixels(size: tuple[int, int] | None) -> str:
    shown = f" ({size[0]} x {size[1]}, {size[0] * size[1] / 1e6:.0f} megapixels)" if size else ""
    return f"is too large{shown}; pictures may have at most {MAX_PIXELS // 1_000_000} megapixels: export it smaller"


def _fallback_format(image: Image.Image) -> str:
    """PNG for pictures with transparency or few colours (drawings, screenshots), JPEG for photos."""
    if _has_alpha(image):
        return "png"
    if image.format == "PNG" or image.mode in ("P", "1", "L"):
        small = image.copy()
        small.thumbnail((256, 256))
        return "png" if small.convert("RGB").getcolors(256) is not None else "jpeg"
    return "jpeg"


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _resized(image: Image.Image, width: int) -> Image.Image:
    if image.width <= width:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _variants(prepared: PreparedImage) -> list[Variant]:
    return [prepared.email, *prepared.blog, *prepared.fallback]


def _from_json(data: dict) -> PreparedImage:
    return PreparedImage(
        digest=data["digest"],
        width=data["width"],
        height=data["height"],
        source_bytes=data["source_bytes"],
        email=Variant(**data["email"]),
        blog=tuple(Variant(**item) for item in data["blog"]),
        fallback=tuple(Variant(**item) for item in data["fallback"]),
    )
