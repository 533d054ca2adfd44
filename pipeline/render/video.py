"""Exercise videos on YouTube and Vimeo: which video a link points to, how to embed it, and the
thumbnail the email and the blog show in its place.

The thumbnail is drawn here with Pillow, from the card's own poster picture when it has one or
as a plain branded card with the exercise's name, with a play button on top. Builds stay offline
and byte-for-byte repeatable: nothing is fetched from the video host, and the only font used is
the one Pillow ships.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from urllib.parse import parse_qs, urlencode, urlsplit

from PIL import Image, ImageDraw, ImageFont, ImageOps

from pipeline.content.video_fences import DEFAULT_TITLE, FencedVideo, fenced_videos, may_hold_videos
from pipeline.core.model import ExerciseBlock
from pipeline.tools.fingerprint import digest

THUMBNAIL_FOLDER = "media/video"
THUMBNAIL_SIZE = (960, 540)  # 16:9; shown at 480 px wide in the email, so sharp on high-density screens
PROVIDER_NAMES = {"youtube": "YouTube", "vimeo": "Vimeo"}

_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{6,}")
_YOUTUBE_HOSTS = ("youtube.com", "youtube-nocookie.com", "music.youtube.com")
_VIMEO_ID = re.compile(r"\d+")
_VIMEO_HASH = re.compile(r"[0-9a-f]{6,}")
_TIMESTAMP = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")

BRAND = (123, 45, 82)  # the site's plum, #7b2d52
BRAND_DARK = (74, 24, 48)
INK = (255, 255, 255)


@dataclass(frozen=True)
class VideoLink:
    """A video the blog can embed: its host, its id there, and the addresses to reach it."""

    provider: str  # "youtube" or "vimeo"
    video_id: str
    url: str  # as the writer gave it; what the email and the no-script fallback link to
    embed_url: str  # the player, loaded only when the reader presses play
    start: int = 0  # seconds into the video, from a `t=` in the link

    @property
    def provider_name(self) -> str:
        return PROVIDER_NAMES[self.provider]


def parse_video(url: str) -> VideoLink | None:
    """The YouTube or Vimeo video a link points to; None for any other address."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    query = parse_qs(parts.query)
    start = _seconds((query.get("t") or query.get("start") or [""])[0] or parts.fragment.removeprefix("t="))
    if host == "youtu.be" or host in _YOUTUBE_HOSTS:
        video_id = youtube_id(url)
        if video_id is None:
            return None
        options = {"autoplay": 1, **({"start": start} if start else {})}
        return VideoLink(
            "youtube", video_id, url, f"https://www.youtube-nocookie.com/embed/{video_id}?{urlencode(options)}", start
        )
    if host in ("vimeo.com", "player.vimeo.com"):
        return _vimeo(url, parts.path, query, start)
    return None


def youtube_id(url: str) -> str | None:
    """The video id of a YouTube watch, short, embed, shorts or live link; None for other hosts."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if host == "youtu.be":
        candidate = parts.path.strip("/").split("/")[0]
    elif host in _YOUTUBE_HOSTS:
        if parts.path == "/watch":
            candidate = parse_qs(parts.query).get("v", [""])[0]
        else:
            match = re.match(r"^/(?:embed|shorts|live|v)/([^/?#]+)", parts.path)
            candidate = match.group(1) if match else ""
    else:
        return None
    return candidate if _YOUTUBE_ID.fullmatch(candidate or "") else None


def _vimeo(url: str, path: str, query: dict, start: int) -> VideoLink | None:
    """vimeo.com/ID, vimeo.com/ID/HASH (unlisted), player.vimeo.com/video/ID?h=HASH,
    vimeo.com/channels/NAME/ID, vimeo.com/groups/NAME/videos/ID, vimeo.com/showcase/N/video/ID."""
    segments = [segment for segment in path.split("/") if segment]
    numeric = [index for index, segment in enumerate(segments) if _VIMEO_ID.fullmatch(segment)]
    if not numeric:
        return None
    index = numeric[-1] if segments[0] in ("showcase", "album") else numeric[0]
    video_id = segments[index]
    following = segments[index + 1] if index + 1 < len(segments) else ""
    private_hash = (query.get("h") or [""])[0] or (following if _VIMEO_HASH.fullmatch(following) else "")
    options = {**({"h": private_hash} if private_hash else {}), "autoplay": 1, "dnt": 1}
    embed = f"https://player.vimeo.com/video/{video_id}?{urlencode(options)}" + (f"#t={start}s" if start else "")
    return VideoLink("vimeo", video_id, url, embed, start)


def _seconds(value: str) -> int:
    match = _TIMESTAMP.match(value.strip()) if value else None
    if not match or not any(match.groups()):
        return 0
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return hours * 3600 + minutes * 60 + seconds


# ---------------------------------------------------------------- where the thumbnail lives


def thumbnail_path(block: ExerciseBlock, article_slug: str | None = None) -> str:
    """The site path of an exercise's video thumbnail. A library card has one thumbnail wherever
    it is used; an exercise written inside an article has its own, in the article's folder."""
    if block.ref:
        return f"{THUMBNAIL_FOLDER}/{block.ref}.png"
    if article_slug is None:
        return f"{THUMBNAIL_FOLDER}/{block.slug}.png"
    return f"{THUMBNAIL_FOLDER}/{article_slug}/{block.slug}.png"


# ---------------------------------------------------------------- drawing it


def thumbnail_png(title: str, provider_name: str, poster: bytes | None = None, label: str = "Exercise video") -> bytes:
    """A 16:9 PNG: the poster picture (cropped to fit) or a branded card, the exercise's name,
    and a play button. The same arguments always give the same bytes."""
    width, height = THUMBNAIL_SIZE
    image = _poster_background(poster) if poster else Image.new("RGB", THUMBNAIL_SIZE, BRAND)
    draw = ImageDraw.Draw(image, "RGBA")
    band_top = _draw_caption(draw, title, f"{label} · plays on {provider_name}", width, height)
    _draw_play_button(draw, width // 2, band_top // 2, radius=round(height * 0.14))
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()


def _poster_background(poster: bytes) -> Image.Image:
    with Image.open(io.BytesIO(poster)) as picture:
        picture = ImageOps.exif_transpose(picture).convert("RGB")
        return ImageOps.fit(picture, THUMBNAIL_SIZE, method=Image.Resampling.LANCZOS)


def _draw_caption(draw: ImageDraw.ImageDraw, title: str, label: str, width: int, height: int) -> int:
    """The name and "plays on YouTube" on a dark band along the bottom; returns the band's top."""
    margin, title_size, title_leading, label_size = 40, 46, 56, 26
    title_font, label_font = _font(title_size), _font(label_size)
    lines = _fit_lines(title, title_font, width - 2 * margin, max_lines=2)
    band_top = height - (28 + len(lines) * title_leading + 12 + label_size + 30)
    draw.rectangle((0, band_top, width, height), fill=BRAND_DARK + (225,))  # readable on a photo too
    y = band_top + 28
    for line in lines:
        draw.text((margin, y), line, font=title_font, fill=INK)
        y += title_leading
    draw.text((margin, y + 12), label, font=label_font, fill=(255, 255, 255, 215))
    return band_top


def _draw_play_button(draw: ImageDraw.ImageDraw, x: int, y: int, radius: int) -> None:
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(0, 0, 0, 150), outline=INK, width=6)
    side = radius * 0.9  # an equilateral triangle, nudged right so it looks centred
    left, right = x - side * 0.38, x + side * 0.62
    draw.polygon([(left, y - side / 2), (left, y + side / 2), (right, y)], fill=INK)


def _fit_lines(text: str, font: ImageFont.FreeTypeFont, max_width: int, max_lines: int) -> list[str]:
    """The title wrapped to the width, on at most `max_lines` lines (the last one shortened with …)."""
    words = " ".join(text.split())
    for columns in range(60, 5, -2):
        lines = textwrap.wrap(words, columns) or [""]
        if all(font.getlength(line) <= max_width for line in lines[:max_lines]):
            break
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += " …"
    while font.getlength(lines[-1]) > max_width and len(lines[-1]) > 2:
        lines[-1] = lines[-1][:-3].rstrip() + "…"
    return lines


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow's own font and its basic layout engine: the same pixels on every machine.
    font = ImageFont.load_default(size=size)
    if isinstance(font, ImageFont.FreeTypeFont):
        return font.font_variant(layout_engine=ImageFont.Layout.BASIC)
    return font


# ---------------------------------------------------------------- a video in an article's prose


def fence_thumbnail_path(video: FencedVideo, link: VideoLink) -> str:
    """The site path of the thumbnail of a ```video fence: one file per video and title, wherever
    it is shown (the title is drawn on it)."""
    return f"{THUMBNAIL_FOLDER}/{link.provider}-{link.video_id}-{digest(video.title)[:8]}.png"


def fence_thumbnails(texts: Iterable[str]) -> dict[str, tuple[FencedVideo, VideoLink]]:
    """{site path of the thumbnail: its video} of every YouTube or Vimeo ```video fence in `texts`."""
    found = {}
    for text in texts:
        if not may_hold_videos(text):
            continue
        for _, _, video in fenced_videos(text):
            link = None if video.problems else parse_video(video.url)
            if link is not None:
                found[fence_thumbnail_path(video, link)] = (video, link)
    return found


def fence_thumbnail_png(video: FencedVideo, link: VideoLink) -> bytes:
    return thumbnail_png(video.title or DEFAULT_TITLE, link.provider_name, label="Video")


def fence_html(video: FencedVideo, url: Callable[[str], str], click_to_play: bool) -> str:
    """A ```video fence as HTML. YouTube and Vimeo: the drawn thumbnail linking to the video -
    on the blog (`click_to_play`) a player that loads only when the reader presses play
    (static/video.js), in an email or feed a plain linked picture. Any other address: a link."""
    link = parse_video(video.url)
    title = escape(video.title)
    if link is None:
        return f'<p><a class="video-link" href="{escape(video.url)}">&#9654; {title or "Watch the video"}</a></p>'
    thumbnail = escape(url(fence_thumbnail_path(video, link)))
    alt = f"Play the video{': ' + title if title else ''} (opens {link.provider_name})"
    if not click_to_play:
        image = f'<img src="{thumbnail}" width="480" height="270" alt="{alt}">'
        return f'<p><a href="{escape(link.url)}">{image}</a></p>'
    caption = f"{title}: the video" if title else "The video"
    return (
        '<figure class="video-player">'
        f'<a class="video-player__play" href="{escape(link.url)}" data-embed="{escape(link.embed_url)}" '
        f'data-title="Video{": " + title if title else ""}">'
        f'<img src="{thumbnail}" width="960" height="540" loading="lazy" alt="{alt}"></a>'
        f"<figcaption>{caption} loads from {link.provider_name} only when you press play.</figcaption>"
        "</figure>"
    )
