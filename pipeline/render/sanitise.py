"""Raw HTML in Markdown (README, "Raw HTML in Markdown"): the writer is trusted on the blog, so
what she writes there stays as written; everything that leaves for someone else's software, the
email and the Atom feed, goes through nh3 (the Ammonia sanitiser) with the tags and attributes
mail clients render. Scripts, frames, forms, `on*` attributes, `style` beyond text alignment and
links other than http(s), mailto and tel are removed.

HTML that Markdown made by itself from text with no raw HTML and only safe links is left
byte for byte as it was (nh3 would re-spell its entities): the common case costs one scan.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import nh3

EMAIL_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "dd",
        "del",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)
EMAIL_ATTRIBUTES = {
    "*": {"class", "id", "title", "style", "align", "dir", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start", "type"},
    "abbr": {"title"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
STYLE_PROPERTIES = frozenset({"text-align"})  # Markdown tables' column alignment
_URL_ATTRIBUTE = re.compile(r"""\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def email_safe(fragment: str, had_raw_html: bool = True) -> str:
    """`fragment` as mail clients and feed readers may show it. `had_raw_html`: the Markdown held
    raw HTML (False lets HTML with only safe links through untouched)."""
    if not had_raw_html and not _has_unsafe_url(fragment):
        return fragment
    return nh3.clean(
        fragment,
        tags=set(EMAIL_TAGS),
        attributes={tag: set(names) for tag, names in EMAIL_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=None,
        filter_style_properties=set(STYLE_PROPERTIES),
        strip_comments=True,
    )


def _url_attributes(fragment: str):
    """_URL_ATTRIBUTE.finditer(fragment), found from each "=": the regex tried at every position
    of the text was most of the time this check takes."""
    end = 0
    equals = fragment.find("=")
    while equals != -1:
        name_end = equals
        while name_end > end and fragment[name_end - 1].isspace():
            name_end -= 1
        for start in (name_end - 4, name_end - 3):  # where "href" or "src" would begin
            match = _URL_ATTRIBUTE.match(fragment, start) if start >= end else None
            if match:
                yield match
                end = match.end()
                break
        equals = fragment.find("=", max(equals + 1, end))


def _has_unsafe_url(fragment: str) -> bool:
    for match in _url_attributes(fragment):
        value = html.unescape(next(group for group in match.groups() if group is not None))
        scheme = urlsplit(value.strip()).scheme.lower()
        if scheme and scheme not in URL_SCHEMES:
            return True
    return False
