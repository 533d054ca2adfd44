"""Pictures: resized and recompressed once by content hash, a <picture> with srcset on the blog,
one resized <img> in the email, and a clear file:line error for a picture that cannot be used."""

from __future__ import annotations

import io
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import picture
from PIL import Image

from pipeline.build.images import prepare_pictures
from pipeline.cli.main import main
from pipeline.content.load import load_content
from pipeline.core.config import load_config
from pipeline.tools.images import MAX_FILE_BYTES, ImageProblem, ImageStore

WEEK = "2026-W48"
EPOCH = {"SOURCE_DATE_EPOCH": "1795680000"}  # 2026-11-26, in the week the article is dated

ARTICLE = """\
---
title: Pictures
date: 2026-11-24
summary: An article with pictures.
image: ../images/lead.jpg
image_alt: A mat by a window
---

Some text.

![A woman lying on her back, knees bent](../images/photo.jpg)

![](../images/divider.png){: .decorative}
"""


def project_files(**pictures: bytes) -> dict:
    files = {"content/articles/pictures.md": ARTICLE}
    defaults = {
        "lead.jpg": picture(2000, 1000),
        "photo.jpg": picture(3000, 2000),
        "divider.png": picture(900, 30, "PNG", "RGBA"),
    }
    for name, data in {**defaults, **pictures}.items():
        if data is not None:
            files[f"content/images/{name}"] = data
    return files


def build(root: Path):
    return CliRunner().invoke(main, ["build", "--root", str(root), "--week", WEEK], env=EPOCH)


class Images(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in ("img", "source", "picture"):
            self.tags.append((tag, dict(attrs)))

    def of(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.fixture
def built(make_project):
    root = make_project(project_files())
    result = build(root)
    assert result.exit_code == 0, result.output
    return root


def site_file(root: Path, url: str, page: str) -> Path:
    return (root / "dist" / "site" / page).parent.joinpath(url).resolve()


def test_every_blog_img_has_width_and_height_and_a_webp_srcset_beside_it(built):
    page = "articles/pictures/index.html"
    images = Images((built / "dist/site" / page).read_text())
    assert len(images.of("picture")) == 3
    for img in images.of("img"):
        assert img["width"].isdigit() and img["height"].isdigit(), img
        assert img["src"].endswith((".jpg", ".png"))  # the email's copy, for browsers without WebP
    for source in images.of("source"):
        assert source["type"] == "image/webp"
        for url, width in re.findall(r"(\S+) (\d+)w", source["srcset"]):
            with Image.open(site_file(built, url, page)) as variant:
                assert variant.format == "WEBP" and variant.width == int(width)


def test_blog_widths_stop_at_the_pictures_own_width(built):
    images = Images((built / "dist/site/articles/pictures/index.html").read_text())
    divider = next(img for img in images.of("img") if img["src"].endswith(".png"))
    webp = images.of("source")[images.of("img").index(divider)]
    assert re.findall(r"(\d+)w", webp["srcset"]) == ["480", "800", "900"]
    assert (divider["width"], divider["height"]) == ("900", "30")


def test_the_email_shows_each_picture_at_most_1200_px_wide_shown_at_600(built):
    html = (built / "dist/email" / WEEK / "index.html").read_text()
    body_picture = next(img for img in Images(html).of("img") if "woman" in img.get("alt", ""))
    assert (body_picture["width"], body_picture["height"]) == ("600", "400")
    file = built / "dist/site" / body_picture["src"].removeprefix("https://strongfromwithin.example/")
    with Image.open(file) as variant:
        assert (variant.format, variant.size) == ("JPEG", (1200, 800))


def test_a_picture_with_transparency_stays_png_and_a_photo_becomes_jpeg(built):
    html = (built / "dist/email" / WEEK / "index.html").read_text()
    sources = [img["src"] for img in Images(html).of("img") if "/media/img/" in img["src"]]
    assert sorted(Path(src).suffix for src in sources) == [".jpg", ".jpg", ".png"]


def test_a_decorative_picture_has_empty_alt_text_and_check_accepts_it(built):
    images = Images((built / "dist/site/articles/pictures/index.html").read_text())
    divider = next(img for img in images.of("img") if img["src"].endswith(".png"))
    assert divider["alt"] == ""
    result = CliRunner().invoke(main, ["check", "--root", str(built), "--week", WEEK], env=EPOCH)
    assert "images.no-alt" not in result.output and "has no alt text" not in result.output


def test_the_article_picture_is_the_opengraph_image_at_1200_px(built):
    head = (built / "dist/site/articles/pictures/index.html").read_text()
    og = re.search(r'<meta property="og:image" content="([^"]+)"', head).group(1)
    assert re.search(r"/media/img/[0-9a-f]{20}-1200\.jpg$", og)


def test_a_picture_is_resized_once_and_reused_by_content_hash(make_project, tmp_path):
    root = make_project(project_files())
    store_folder = tmp_path / "store"
    config = load_config(root)
    content = load_content(config)
    first = prepare_pictures(config, content, ImageStore(store_folder))
    made = {path.name: path.stat().st_mtime_ns for path in store_folder.iterdir() if path.name != "index.json"}
    os.utime(root / "content/images/photo.jpg")  # touched, same bytes: found again by its hash
    second = prepare_pictures(config, content, ImageStore(store_folder))
    assert second.pictures == first.pictures
    assert {path.name: path.stat().st_mtime_ns for path in store_folder.iterdir() if path.name in made} == made


def saved_an_hour_before(path: Path, reference: Path | None = None) -> None:
    """Give `path` an mtime an hour before `reference`'s (its own by default): saved long before
    the build, as nearly every picture is. File times, not the clock, which tests may shift."""
    then = (reference or path).stat().st_mtime_ns - 3600 * 10**9
    os.utime(path, ns=(then, then))


def same_size_pictures() -> tuple[bytes, bytes]:
    """Two different pictures of exactly the same number of bytes (uncompressed PNG)."""
    first, second = (Image.new("RGB", (300, 200), colour) for colour in ("white", "black"))
    return tuple(_png(image) for image in (first, second))


def _png(image: Image.Image) -> bytes:
    output = io.BytesIO()
    image.save(output, format="PNG", compress_level=0)
    return output.getvalue()


def test_a_warm_store_answers_from_a_stat_without_reading_the_picture(tmp_path, monkeypatch):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(picture(800, 600))
    saved_an_hour_before(photo)
    ImageStore(tmp_path / "store").prepare(photo)
    ImageStore(tmp_path / "store").save()
    store = ImageStore(tmp_path / "store")
    store.prepare(photo)
    store.save()
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"read {self}"))
    assert ImageStore(tmp_path / "store").cached(photo) is not None


def test_a_picture_saved_again_at_the_same_size_is_noticed_by_its_new_mtime(tmp_path):
    before, after = same_size_pictures()
    assert len(before) == len(after) and before != after
    photo = tmp_path / "photo.png"
    photo.write_bytes(before)
    saved_an_hour_before(photo)
    first = ImageStore(tmp_path / "store").prepare(photo)
    photo.write_bytes(after)  # saved now: same size, new mtime
    second = ImageStore(tmp_path / "store").prepare(photo)
    assert second.digest != first.digest
    shown = Image.open(ImageStore(tmp_path / "store").path_of(second.email)).convert("RGB")
    assert shown.getpixel((0, 0)) == (0, 0, 0)


def test_a_picture_read_just_after_it_was_saved_is_read_again_next_time(tmp_path):
    """git's "racy" case: saved, prepared and saved again within one tick of the file system's
    clock, at the same size, the file's stat does not change. So a stamp is trusted only when
    the file was saved well before it was read."""
    before, after = same_size_pictures()
    photo = tmp_path / "photo.png"
    photo.write_bytes(before)
    store = ImageStore(tmp_path / "store")
    first = store.prepare(photo)  # read at once: not trusted by its stat
    store.save()
    stat = photo.stat()
    photo.write_bytes(after)
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same tick: the same stat
    assert ImageStore(tmp_path / "store").cached(photo) is None
    assert ImageStore(tmp_path / "store").prepare(photo).digest != first.digest


def test_a_changed_picture_gets_new_variants(make_project):
    root = make_project(project_files())
    assert build(root).exit_code == 0
    before = set(os.listdir(root / "dist/site/media/img"))
    (root / "content/images/photo.jpg").write_bytes(picture(2400, 1600))
    assert build(root).exit_code == 0
    after = set(os.listdir(root / "dist/site/media/img"))
    assert before != after and len(after) == len(before)  # the old variants of photo.jpg are gone


def test_a_sideways_phone_photo_is_turned_as_its_exif_says(tmp_path):
    image = Image.open(io.BytesIO(picture(1600, 1200)))
    exif = image.getexif()
    exif[0x0112] = 6  # taken with the phone held upright
    photo = tmp_path / "upright.jpg"
    image.save(photo, exif=exif)
    prepared = ImageStore(tmp_path / "store").prepare(photo)
    assert (prepared.width, prepared.height) == (1200, 1600)
    assert (prepared.email.width, prepared.email.height) == (1200, 1600)


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("photo.jpg", None, "does not exist"),
        ("photo.jpg", b"not a picture at all", "is not a picture Pillow can read"),
        ("photo.jpg", "huge", "pictures may be at most 25 MB"),
        ("photo.jpg", "many pixels", "pictures may have at most 40 megapixels"),
    ],
    ids=["missing", "unreadable", "over 25 MB", "over 40 megapixels"],
)
def test_a_picture_that_cannot_be_used_stops_the_build_at_its_line_leaving_dist_alone(
    make_project, name, data, message
):
    root = make_project(project_files())
    assert build(root).exit_code == 0
    before = {p: p.read_bytes() for p in (root / "dist").rglob("*") if p.is_file()}
    target = root / "content/images" / name
    if data is None:
        target.unlink()
    elif data == "huge":
        with open(target, "ab") as file:
            file.truncate(MAX_FILE_BYTES + 1)  # sparse: the size is what counts
    elif data == "many pixels":
        Image.new("1", (8000, 5001)).save(target, format="PNG")
    else:
        target.write_bytes(data)
    result = build(root)
    assert result.exit_code == 2
    assert result.output.startswith("content/articles/pictures.md:11: the picture '../images/photo.jpg' ")
    assert message in result.output
    assert "Traceback" not in result.output
    assert {p: p.read_bytes() for p in (root / "dist").rglob("*") if p.is_file()} == before


def test_a_front_matter_picture_that_cannot_be_used_is_named_at_its_image_line(make_project):
    root = make_project(project_files(**{"lead.jpg": b"not a picture"}))
    result = build(root)
    assert result.exit_code == 2
    assert result.output.startswith("content/articles/pictures.md:5: the picture '../images/lead.jpg' ")


def test_check_names_the_line_of_a_picture_that_cannot_be_used(make_project):
    root = make_project(project_files(**{"photo.jpg": b"not a picture"}))
    result = CliRunner().invoke(main, ["check", "--root", str(root), "--week", WEEK], env=EPOCH)
    assert result.exit_code == 1
    assert "content/articles/pictures.md:11: error: the picture '../images/photo.jpg' is not a picture" in (
        result.output
    )
    assert not (root / ".newsletter").exists()  # check writes nothing, not even the picture cache


def test_too_many_pixels_is_refused_before_decoding(tmp_path):
    big = tmp_path / "big.png"
    Image.new("1", (10000, 4001)).save(big)
    with pytest.raises(ImageProblem, match=r"10000 x 4001, 40 megapixels"):
        ImageStore(tmp_path / "store").prepare(big)


def noisy_photo(width: int, height: int) -> bytes:
    """A picture JPEG cannot squeeze: noise in every channel (the worst case for weight)."""
    channels = [Image.effect_noise((width, height), 64).convert("L") for _ in range(3)]
    output = io.BytesIO()
    Image.merge("RGB", channels).save(output, format="JPEG", quality=95)
    return output.getvalue()


def check(root: Path):
    return CliRunner().invoke(main, ["check", "--root", str(root), "--week", WEEK], env=EPOCH)


def test_check_warns_when_one_emails_pictures_weigh_over_1_mb(make_project):
    body = "\n\n".join(f"![Noise number {n}](../images/noise-{n}.jpg)" for n in range(6))
    files = {
        "content/articles/heavy.md": ARTICLE.split("Some text.")[0] + body + "\n",
        **{f"content/images/noise-{n}.jpg": noisy_photo(1400, 1000) for n in range(6)},
        "content/images/lead.jpg": picture(2000, 1000),
    }
    result = check(make_project(files))
    line = next(line for line in result.output.splitlines() if "weigh" in line)
    assert "warning: the pictures of the 2026-W48 email weigh" in line
    assert re.search(r"weigh (\d+) KB together, over 1024 KB", line)


def test_check_warns_when_the_email_html_comes_near_gmails_clip(make_project):
    words = " ".join(f"word{n}" for n in range(1500))
    paragraphs = "\n\n".join(f"Paragraph {n}: {words}." for n in range(6))  # about 85 KB of HTML
    files = {"content/articles/long.md": ARTICLE.split("image:")[0] + "---\n\n" + paragraphs + "\n"}
    result = check(make_project(files))
    assert re.search(r"warning: the 2026-W48 email is 8\d KB of HTML, near Gmail's 102 KB clip", result.output), (
        result.output
    )


def test_a_light_email_has_no_weight_warning(built):
    assert "weigh" not in check(built).output and "near Gmail" not in check(built).output


def test_push_plan_prints_the_html_size_and_the_weight_of_the_pictures(built):
    result = CliRunner().invoke(main, ["push", "--plan", "--root", str(built), "--week", WEEK], env=EPOCH)
    assert result.exit_code == 0, result.output
    size_line = next(line for line in result.output.splitlines() if line.startswith("Size:"))
    html = (built / "dist/email" / WEEK / "index.html").read_text()
    pictures = set(re.findall(r'src="[^"]*/media/img/([^"]+)"', html))
    weight = sum((built / "dist/site/media/img" / name).stat().st_size for name in pictures)
    assert f"{len(html.encode()) / 1024:.1f} KB HTML (Gmail clips over 102 KB)" in size_line
    assert f"{weight / 1024:.1f} KB of pictures" in size_line


def test_a_picture_added_to_an_article_body_is_resized_by_the_next_build(built):
    (built / "content/images/new.jpg").write_bytes(picture(1000, 500))
    article = built / "content/articles/pictures.md"
    article.write_text(article.read_text() + "\n![A new picture](../images/new.jpg)\n")
    assert build(built).exit_code == 0
    images = Images((built / "dist/site/articles/pictures/index.html").read_text())
    new = next(img for img in images.of("img") if img["alt"] == "A new picture")
    assert (new["width"], new["height"]) == ("1000", "500")
    assert (built / "dist/site" / "articles/pictures" / new["src"]).resolve().is_file()
