"""Prepared pictures (pipeline/tools/images.py) -> the HTML that shows them. Pure: the build
prepares the pictures and hands their variants in as `Pictures`, keyed by site path.

Blog: a `<picture>` with a WebP `srcset` and the email's JPEG/PNG as the `<img>` for browsers
without WebP, `width` and `height` set so the page does not shift while it loads. Email: one
`<img>` of the email variant (at most 1200 px, shown at most 600 px wide), with `width` and
`height` as shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from pipeline.tools.images import PreparedImage, Variant

VARIANT_FOLDER = "media/img/"  # site folder of every variant, named by content hash
EMAIL_COLUMN = 600  # px: the email's content column
BLOG_SIZES = "(max-width: 44rem) 100vw, 44rem"  # the article column: as wide as the screen, up to 44rem
DECORATIVE_CLASS = "decorative"  # ![](x.jpg){: .decorative}: a picture that adds nothing to the text

Pictures = Mapping[str, PreparedImage]  # site path ("images/x.jpg") -> its variants


def variant_path(variant: Variant) -> str:
    return VARIANT_FOLDER + variant.name


def variant_files(pictures: Pictures) -> dict[str, Variant]:
    """Every variant file the site serves, by site path."""
    files = {}
    for prepared in pictures.values():
        for variant in (prepared.email, *prepared.blog, *prepared.fallback):
            files[variant_path(variant)] = variant
    return files


def email_size(prepared: PreparedImage) -> tuple[int, int]:
    """Width and height the email shows the picture at: its own, at most the column."""
    width = min(prepared.email.width, EMAIL_COLUMN)
    return width, max(1, round(prepared.email.height * width / prepared.email.width))


def srcset(variants: tuple[Variant, ...], url: Callable[[str], str]) -> str:
    return ", ".join(f"{url(variant_path(variant))} {variant.width}w" for variant in variants)


_VARIANT_LINK = re.compile(re.escape(VARIANT_FOLDER) + r"([\w.-]+)")


def shown_image_bytes(html: str, pictures: Pictures) -> int:
    """What the prepared pictures an email shows weigh together (each file once)."""
    sizes = {variant.name: variant.size for variant in variant_files(pictures).values()}
    return sum(sizes.get(name, 0) for name in set(_VARIANT_LINK.findall(html)))
