"""Exercise videos on YouTube and Vimeo.

- Which video a link points to, in every form the two hosts use.
- The thumbnail drawn at build time (Pillow, offline, the same bytes every time): the exercise's
  name, a play button, the card's poster picture when it names one.
- In the email: that thumbnail, from the blog's own address, linking to the video, with alt text
  naming the exercise.
- On the blog: the thumbnail as a link that becomes the host's player only when pressed; nothing
  is requested from YouTube or Vimeo before that (checked in the HTML, and in Chromium).
"""

from __future__ import annotations

import concurrent.futures
import io
import os
import re
import socket
from datetime import UTC, datetime

import lxml.html
import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline.cli.main import main
from pipeline.content.assemble import assemble_issue
from pipeline.content.load import content_from_texts
from pipeline.core.config import load_config
from pipeline.core.errors import ContentError
from pipeline.core.model import ExerciseBlock, SignupForm, Source
from pipeline.render.blog import render_site
from pipeline.render.email import render_email
from pipeline.render.video import (
    THUMBNAIL_SIZE,
    parse_video,
    thumbnail_path,
    thumbnail_png,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
BASE = "https://strongfromwithin.example/"
SIGNUP = SignupForm(action="https://lists.example/subscribe", method="post", email_field="email")
VIDEO_HOSTS = re.compile(
    r"youtube\.com|youtube-nocookie\.com|youtu\.be|ytimg\.com|vimeo\.com|vimeocdn\.com", re.IGNORECASE
)

# ---------------------------------------------------------------- which video a link points to


@pytest.mark.parametrize(
    "url, provider, video_id, embed",
    [
        (
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "youtube",
            "dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1",
        ),
        (
            "https://youtu.be/dQw4w9WgXcQ?si=share",
            "youtube",
            "dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1",
        ),
        (
            "https://m.youtube.com/watch?v=dQw4w9WgXcQ&t=1m30s",
            "youtube",
            "dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1&start=90",
        ),
        (
            "https://youtu.be/dQw4w9WgXcQ?t=42",
            "youtube",
            "dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1&start=42",
        ),
        (
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
            "youtube",
            "dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1",
        ),
        (
            "https://www.youtube.com/live/dQw4w9WgXcQ",
            "youtube",
            "dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1",
        ),
        (
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
            "youtube",
            "dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1",
        ),
        ("https://vimeo.com/76979871", "vimeo", "76979871", "https://player.vimeo.com/video/76979871?autoplay=1&dnt=1"),
        (
            "https://vimeo.com/76979871/8a1b2c3d4e",
            "vimeo",
            "76979871",
            "https://player.vimeo.com/video/76979871?h=8a1b2c3d4e&autoplay=1&dnt=1",
        ),
        (
            "https://player.vimeo.com/video/76979871?h=8a1b2c3d4e",
            "vimeo",
            "76979871",
            "https://player.vimeo.com/video/76979871?h=8a1b2c3d4e&autoplay=1&dnt=1",
        ),
        (
            "https://vimeo.com/channels/staffpicks/76979871",
            "vimeo",
            "76979871",
            "https://player.vimeo.com/video/76979871?autoplay=1&dnt=1",
        ),
        (
            "https://vimeo.com/groups/pilates/videos/76979871",
            "vimeo",
            "76979871",
            "https://player.vimeo.com/video/76979871?autoplay=1&dnt=1",
        ),
        (
            "https://vimeo.com/showcase/1234/video/76979871",
            "vimeo",
            "76979871",
            "https://player.vimeo.com/video/76979871?autoplay=1&dnt=1",
        ),
        (
            "https://vimeo.com/76979871#t=30s",
            "vimeo",
            "76979871",
            "https://player.vimeo.com/video/76979871?autoplay=1&dnt=1#t=30s",
        ),
    ],
)
def test_youtube_and_vimeo_links_in_every_form(url, provider, video_id, embed):
    video = parse_video(url)
    assert (video.provider, video.video_id, video.embed_url, video.url) == (provider, video_id, embed, url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/@strongfromwithin",
        "https://www.youtube.com/watch?v=",
        "https://vimeo.com/strongfromwithin",
        "https://videos.example.org/clam.mp4",
        "not a url",
    ],
)
def test_other_addresses_are_not_embeddable_videos(url):
    assert parse_video(url) is None


# ---------------------------------------------------------------- the thumbnail


def pixel(png: bytes, x: int, y: int) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((x, y))


def test_the_thumbnail_is_a_16_by_9_png_with_a_play_button_in_the_middle():
    png = thumbnail_png("Side-lying clam", "YouTube")
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.size) == ("PNG", THUMBNAIL_SIZE)
    width, height = THUMBNAIL_SIZE
    play_centre = pixel(png, width // 2 + 5, 190)  # inside the white triangle of the play button
    assert min(play_centre) > 240
    assert pixel(png, 20, 20) == (123, 45, 82)  # the branded background


def test_the_thumbnail_is_the_same_bytes_every_time_and_shows_the_name():
    assert thumbnail_png("Heel slides", "Vimeo") == thumbnail_png("Heel slides", "Vimeo")
    assert thumbnail_png("Heel slides", "Vimeo") != thumbnail_png("Side-lying clam", "Vimeo")


def test_a_long_name_still_fits_the_picture():
    png = thumbnail_png("A very long exercise name " * 6, "YouTube")
    assert Image.open(io.BytesIO(png)).size == THUMBNAIL_SIZE


def poster_jpeg(colour=(30, 120, 90), size=(1200, 1600)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, colour).save(output, format="JPEG")
    return output.getvalue()


def test_a_poster_picture_is_cropped_to_fill_the_thumbnail():
    png = thumbnail_png("Heel slides", "YouTube", poster_jpeg())
    assert Image.open(io.BytesIO(png)).size == THUMBNAIL_SIZE
    assert all(abs(a - b) <= 3 for a, b in zip(pixel(png, 20, 20), (30, 120, 90), strict=False))


def test_a_card_has_one_thumbnail_and_an_article_exercise_its_own():
    card = ExerciseBlock(name="Clam", slug="side-lying-clam", source=Source("content/exercises/side-lying-clam.md"))
    inline = ExerciseBlock(name="Hip extension", slug="hip-extension", source=Source("content/articles/glutes.md", 9))
    used = ExerciseBlock(
        name="Clam", slug="side-lying-clam", source=Source("content/articles/glutes.md", 30), ref="side-lying-clam"
    )
    assert thumbnail_path(card) == "media/video/side-lying-clam.png"
    assert thumbnail_path(used, "glutes") == "media/video/side-lying-clam.png"
    assert thumbnail_path(inline, "glutes") == "media/video/glutes/hip-extension.png"


# ---------------------------------------------------------------- on the blog and in the email

CARD = """\
---
name: Side-lying clam
pregnancy: safe
video: https://vimeo.com/76979871
{poster}---

A side-lying exercise.

### How to do it

1. Lie on your side.

### Safety

With a prolapse or a diastasis, keep it small.
"""

ARTICLE = """\
---
title: Steady hips
date: 2026-11-24
summary: Small exercises for steady hips.
---

Some prose.

## Exercise - the hip extension

A small bridge.

### How to do it

1. Lift your hips.

### Video

Watch it: https://www.youtube.com/watch?v=dQw4w9WgXcQ

### Safety

pregnancy: safe

With a prolapse or a diastasis, keep the lift small.

```exercise
ref: side-lying-clam
```
"""

QUIET_ARTICLE = "---\ntitle: Quiet\ndate: 2026-11-20\nsummary: No video here.\n---\n\nJust prose.\n"


def files(poster: str = "") -> dict[str, str]:
    return {
        "content/exercises/side-lying-clam.md": CARD.format(poster=poster),
        "content/articles/steady-hips.md": ARTICLE,
        "content/articles/quiet.md": QUIET_ARTICLE,
    }


@pytest.fixture
def project(make_project):
    return make_project(files())


@pytest.fixture
def built(project):
    config = load_config(project)
    content = content_from_texts(files())
    return config, content, render_site(content, config, SIGNUP, NOW)


def document(site, path):
    return lxml.html.fromstring(site[path])


def test_the_blog_build_draws_a_thumbnail_for_each_video(built):
    _, _, site = built
    for path, title in [
        ("media/video/side-lying-clam.png", "Side-lying clam"),
        ("media/video/steady-hips/hip-extension.png", "the hip extension"),
    ]:
        assert site[path] == thumbnail_png(title, "Vimeo" if "clam" in path else "YouTube")


def test_building_the_blog_makes_no_network_request(project, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the build tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    site = render_site(content_from_texts(files()), load_config(project), SIGNUP, NOW)
    assert "media/video/side-lying-clam.png" in site


def test_the_page_asks_nothing_of_youtube_or_vimeo_before_play(built):
    _, _, site = built
    for path in ("articles/steady-hips/index.html", "exercises/side-lying-clam/index.html"):
        page = document(site, path)
        assert page.xpath("//iframe | //video | //embed | //object") == []
        loaded = [
            value
            for value in page.xpath("//@src | //@srcset | //@poster | //link/@href | //@data-src")
            if VIDEO_HOSTS.search(value)
        ]
        assert loaded == [], path


def test_the_player_is_our_thumbnail_linking_to_the_video_until_pressed(built):
    _, _, site = built
    page = document(site, "articles/steady-hips/index.html")
    hip, clam = page.find_class("video-player__play")
    assert hip.get("href") == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"  # works without the script too
    assert hip.get("data-embed") == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"
    assert clam.get("data-embed") == "https://player.vimeo.com/video/76979871?autoplay=1&dnt=1"
    (image,) = hip.findall("img")
    assert image.get("src") == "../../media/video/steady-hips/hip-extension.png"
    assert image.get("alt") == "Play the video: the hip extension"
    assert clam.find("img").get("src") == "../../media/video/side-lying-clam.png"


def test_only_pages_with_a_video_load_the_play_script(built):
    _, _, site = built
    script = "//script[@src]/@src"
    assert document(site, "articles/steady-hips/index.html").xpath(script) == ["../../static/video.js"]
    assert document(site, "exercises/side-lying-clam/index.html").xpath(script) == ["../../static/video.js"]
    assert document(site, "articles/quiet/index.html").xpath(script) == []


def test_a_video_on_another_host_is_a_plain_link(make_project):
    other = {
        **files(),
        "content/exercises/side-lying-clam.md": CARD.format(poster="").replace(
            "https://vimeo.com/76979871", "https://videos.example.org/clam"
        ),
    }
    site = render_site(content_from_texts(other), load_config(make_project(other)), SIGNUP, NOW)
    page = document(site, "exercises/side-lying-clam/index.html")
    assert page.find_class("video-player") == []
    assert page.xpath('//a[@class="video-link"]/@href') == ["https://videos.example.org/clam"]
    assert "media/video/side-lying-clam.png" not in site


def test_a_cards_poster_picture_becomes_its_thumbnail(make_project):
    with_poster = files(poster="video_poster: ../images/clam.jpg\n")
    root = make_project(with_poster)
    (root / "content" / "images").mkdir()
    (root / "content" / "images" / "clam.jpg").write_bytes(poster_jpeg())
    site = render_site(content_from_texts(with_poster), load_config(root), SIGNUP, NOW)
    assert site["media/video/side-lying-clam.png"] == thumbnail_png("Side-lying clam", "Vimeo", poster_jpeg())


def test_a_poster_that_is_not_there_is_an_error_at_its_line(make_project):
    with_poster = files(poster="video_poster: ../images/missing.jpg\n")
    with pytest.raises(
        ContentError,
        match=r"^content/exercises/side-lying-clam.md:5: video_poster '../images/missing.jpg' is not a file",
    ):
        render_site(content_from_texts(with_poster), load_config(make_project(with_poster)), SIGNUP, NOW)


def test_the_email_shows_the_blogs_thumbnail_linking_to_the_video(built):
    config, content, site = built
    html = render_email(assemble_issue(content, config, "2026-W48"), config, BASE + "unsubscribe/").html
    images = {image.get("src"): image for image in lxml.html.fromstring(html).iter("img")}
    for path, name, host, url in [
        (
            "media/video/steady-hips/hip-extension.png",
            "the hip extension",
            "YouTube",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        ),
        ("media/video/side-lying-clam.png", "Side-lying clam", "Vimeo", "https://vimeo.com/76979871"),
    ]:
        image = images[BASE + path]
        assert path in site  # the address the email uses is a file the blog build writes
        assert image.get("alt") == f"Play the video: {name} (opens {host})"
        assert image.getparent().tag == "a" and image.getparent().get("href") == url
    assert not any(VIDEO_HOSTS.search(src) for src in images)
    assert not re.search(r"<(iframe|video|embed|object)\b", html)


def test_newsletter_build_writes_the_thumbnails_into_the_site(project):
    result = CliRunner().invoke(main, ["build", "--root", str(project), "--week", "2026-W48"])
    assert result.exit_code == 0, result.output
    written = project / "dist" / "site" / "media" / "video" / "steady-hips" / "hip-extension.png"
    assert Image.open(written).size == THUMBNAIL_SIZE


# ---------------------------------------------------------------- in a real browser


def in_chromium(check) -> None:
    """Run check(browser) in Debian's Chromium, in a thread of its own: Playwright's sync API
    refuses a thread where another test left an asyncio loop running."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.access("/usr/bin/chromium", os.X_OK):
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]

    def run():
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
            try:
                check(browser)
            finally:
                browser.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result(timeout=120)


def test_in_chromium_nothing_leaves_for_the_video_host_until_play_is_pressed(project):
    assert CliRunner().invoke(main, ["build", "--root", str(project), "--week", "2026-W48"]).exit_code == 0
    page_file = project / "dist" / "site" / "articles" / "steady-hips" / "index.html"
    requested: list[str] = []

    def offline(route, request):
        requested.append(request.url)
        if request.url.startswith("file://"):
            return route.continue_()
        return route.abort("blockedbyclient")  # tests never reach the internet

    def check(browser):
        context = browser.new_context()
        try:
            context.route("**/*", offline)
            page = context.new_page()
            page.goto(page_file.as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            assert [url for url in requested if VIDEO_HOSTS.search(url)] == []
            assert page.locator("iframe").count() == 0
            page.locator("a.video-player__play").first.click()
            frame = page.locator("iframe.video-player__frame")
            frame.wait_for(state="attached")
            assert frame.get_attribute("src") == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"
            assert frame.get_attribute("title") == "Video: the hip extension"
            page.wait_for_timeout(300)
            assert any("youtube-nocookie.com/embed/dQw4w9WgXcQ" in url for url in requested)  # only now
            assert page.locator("a.video-player__play").count() == 1  # the other video is still a thumbnail
        finally:
            context.close()

    in_chromium(check)


# ---------------------------------------------------------------- a ```video fence in an article's prose

PROSE_VIDEOS = """\
---
title: Breathing into the ribs
date: 2026-11-25
summary: A breathing exercise, and a video of it.
---

Watch first, then try it.

```video
url: https://www.youtube.com/watch?v=aqz-KE-bpKQ
title: Breathing into the side ribs
```

And the slower version:

```video
url: https://vimeo.com/76979871
```

```video
url: https://videos.example.org/ribs.mp4
title: Our own recording
```
"""


def prose_files() -> dict[str, str]:
    return {**files(), "content/articles/ribs.md": PROSE_VIDEOS}


@pytest.fixture
def prose_built(make_project):
    config = load_config(make_project(prose_files()))
    content = content_from_texts(prose_files())
    return config, content, render_site(content, config, SIGNUP, NOW)


def test_a_video_block_on_the_blog_is_our_thumbnail_until_pressed(prose_built):
    _, _, site = prose_built
    page = document(site, "articles/ribs/index.html")
    youtube, vimeo = page.find_class("video-player__play")
    assert youtube.get("href") == "https://www.youtube.com/watch?v=aqz-KE-bpKQ"
    assert youtube.get("data-embed") == "https://www.youtube-nocookie.com/embed/aqz-KE-bpKQ?autoplay=1"
    assert youtube.find("img").get("alt") == "Play the video: Breathing into the side ribs (opens YouTube)"
    assert vimeo.get("data-embed") == "https://player.vimeo.com/video/76979871?autoplay=1&dnt=1"
    for player in (youtube, vimeo):
        thumbnail = player.find("img").get("src").removeprefix("../../")
        assert Image.open(io.BytesIO(site[thumbnail])).size == THUMBNAIL_SIZE  # drawn by the build
    assert page.xpath('//a[@class="video-link"]/@href') == ["https://videos.example.org/ribs.mp4"]
    assert page.xpath("//script[@src]/@src") == ["../../static/video.js"]
    assert page.xpath("//iframe | //video") == []
    assert not [v for v in page.xpath("//@src | //@srcset | //link/@href") if VIDEO_HOSTS.search(v)]


def test_a_video_block_in_the_email_is_the_linked_thumbnail_and_in_plain_text_its_address(prose_built):
    config, content, site = prose_built
    email = render_email(assemble_issue(content, config, "2026-W48"), config, BASE + "unsubscribe/")
    linked = {
        image.getparent().get("href"): image.get("src")
        for image in lxml.html.fromstring(email.html).iter("img")
        if image.getparent().tag == "a"
    }
    for url in ("https://www.youtube.com/watch?v=aqz-KE-bpKQ", "https://vimeo.com/76979871"):
        assert linked[url].startswith(BASE + "media/video/") and linked[url].removeprefix(BASE) in site
        assert url in email.text
    assert not re.search(r"<(iframe|video|embed|object|script)\b", email.html)
    assert "Our own recording (https://videos.example.org/ribs.mp4)" in email.text


@pytest.mark.parametrize(
    "fence, line, message",
    [
        ("```video\ntitle: No address\n```", 7, "the ```video block has no url"),
        ("```video\nurl: http://youtu.be/abcdefgh\n```", 7, "is not an https:// address"),
        ("```video\nurl: https://youtu.be/abcdefgh\nposter: x.jpg\n```", 9, "unknown key 'poster'"),
        ("```video\nurl: https://youtu.be/abcdefgh\n", 7, "the ```video block is not closed"),
    ],
    ids=["no url", "not https", "unknown key", "not closed"],
)
def test_a_wrong_video_block_is_a_check_error_at_its_line(make_project, fence, line, message):
    text = f"---\ntitle: Ribs\ndate: 2026-11-25\nsummary: Ribs.\n---\n\n{fence}\n"
    root = make_project({**files(), "content/articles/ribs.md": text})
    result = CliRunner().invoke(main, ["check", "--root", str(root), "--week", "2026-W48"])
    assert result.exit_code != 0
    assert f"content/articles/ribs.md:{line}:" in result.output and message in result.output


def test_a_video_block_added_to_an_article_gets_its_thumbnail_on_the_next_build(make_project):
    root = make_project(files())
    build = ["build", "--root", str(root), "--week", "2026-W48"]
    assert CliRunner().invoke(main, build).exit_code == 0
    article = root / "content" / "articles" / "quiet.md"
    article.write_text(QUIET_ARTICLE + "\n```video\nurl: https://vimeo.com/76979871\n```\n", encoding="utf-8")
    assert CliRunner().invoke(main, build).exit_code == 0  # only a body changed, yet not the quick rebuild
    page = (root / "dist" / "site" / "articles" / "quiet" / "index.html").read_text(encoding="utf-8")
    (thumbnail,) = re.findall(r'src="\.\./\.\./(media/video/vimeo-76979871-[0-9a-f]+\.png)"', page)
    assert (root / "dist" / "site" / thumbnail).is_file()
