"""Feed: the Atom feed the blog advertises, read by feedparser as a feed reader would, and held to
RFC 4287's required elements: ids (unique), titles, updated dates, links; plus what our readers
need: absolute links that lead to pages that exist.
"""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

from . import quality_support as qs


def advertised_feed(build: qs.Build) -> str:
    """The site path of the feed named by the home page's <link rel="alternate">."""
    lxml_html = qs.require_module("lxml.html")
    home = lxml_html.fromstring((build.site_dir / "index.html").read_bytes())
    links = home.xpath('//link[@rel="alternate"][@type="application/atom+xml"]/@href')
    assert links, (
        f'{build.name}: index.html has no <link rel="alternate" '
        'type="application/atom+xml">, so readers cannot find the feed'
    )
    href = links[0]
    if urlsplit(href).scheme:  # an absolute URL of the site: keep the part below base_url
        href = urlsplit(href).path[len(urlsplit(build.config.base_url).path) :]
    return posixpath.normpath(href)


def site_file_for(build: qs.Build, url: str):
    """The file under dist/site/ that an absolute URL of the site stands for, or None."""
    base = build.config.base_url
    if not url.startswith(base):
        return None
    path = build.site_dir / urlsplit(url).path[len(urlsplit(base).path) :]
    return path / "index.html" if path.is_dir() else path


def feed_problems(build: qs.Build, parsed) -> list[str]:
    problems = []
    feed, base = parsed.feed, build.config.base_url
    if parsed.bozo:
        problems.append(f"not well-formed: {parsed.bozo_exception}")
    if parsed.version != "atom10":
        problems.append(f"feedparser reads it as {parsed.version or 'unknown'}, not Atom 1.0")
    for key in ("id", "title", "updated"):
        if not feed.get(key):
            problems.append(f"<feed> has no <{key}>")
    rels = {link.get("rel"): link.get("href") for link in feed.get("links", [])}
    if not rels.get("self", "").startswith(base):
        problems.append(
            f'<feed> needs <link rel="self"> with its own absolute URL under {base}, has {rels.get("self")!r}'
        )
    if not rels.get("alternate", "").startswith(base):
        problems.append(f'<feed> needs <link rel="alternate"> to the blog ({base}), has {rels.get("alternate")!r}')
    if not feed.get("author") and not all(entry.get("author") for entry in parsed.entries):
        problems.append("no <author> on the feed, and not on every entry (RFC 4287 4.1.1)")
    seen: dict[str, int] = {}
    for number, entry in enumerate(parsed.entries, 1):
        name = f"entry {number} ({entry.get('title', 'no title')!r})"
        for key in ("id", "title", "updated"):
            if not entry.get(key):
                problems.append(f"{name} has no <{key}>")
        if entry.get("id") in seen:
            problems.append(f"{name} repeats the id {entry['id']} of entry {seen[entry['id']]}")
        seen.setdefault(entry.get("id"), number)
        if entry.get("updated") and not entry.get("updated_parsed"):
            problems.append(f"{name}: <updated> {entry['updated']!r} is not an RFC 3339 date")
        alternate = next((link["href"] for link in entry.get("links", []) if link.get("rel") == "alternate"), "")
        target = site_file_for(build, alternate)
        if target is None or not target.is_file():
            problems.append(f'{name}: <link rel="alternate"> {alternate!r} is not a page of the built site')
        for content in entry.get("content", []) + ([entry["summary_detail"]] if "summary_detail" in entry else []):
            problems += [
                f"{name}: relative link {href!r} in its content (feed readers need absolute URLs)"
                for href in relative_links(content.get("value", ""))
            ]
    return problems


def relative_links(html: str) -> list[str]:
    if "<" not in html:
        return []
    lxml_html = qs.require_module("lxml.html")
    links = []
    for _element, attribute, url, _ in lxml_html.fromstring(f"<div>{html}</div>").iterlinks():
        if attribute in ("href", "src") and not urlsplit(url).scheme and not url.startswith("#"):
            links.append(url)
    return links


def test_the_feed_is_valid_atom_that_readers_can_follow(build):
    feedparser = qs.require_module("feedparser")
    feed_path = advertised_feed(build)
    feed_file = build.site_dir / feed_path
    assert feed_file.is_file(), f"{build.name}: the home page advertises {feed_path}, which the build did not write"

    parsed = feedparser.parse(feed_file.read_bytes())
    problems = feed_problems(build, parsed)

    print(f"{build.name}: {feed_path}: {parsed.version}, {len(parsed.entries)} entries, {len(problems)} problems")
    assert not problems, f"{build.name} {feed_path}:\n  " + "\n  ".join(problems)


def test_the_feed_check_catches_a_broken_feed(demo_build):
    """The canary: a repeated id, a missing date and a relative link are each reported."""
    feedparser = qs.require_module("feedparser")
    base = demo_build.config.base_url
    broken = f"""<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom"><id>{base}</id><title>t</title><updated>2026-11-23T00:00:00Z</updated>
    <link rel="self" href="{base}feed.xml"/><link rel="alternate" href="{base}"/><author><name>a</name></author>
    <entry><id>x</id><title>a</title><updated>2026-11-23T00:00:00Z</updated><link rel="alternate" href="{base}"/>
      <content type="html">&lt;a href="../b/"&gt;b&lt;/a&gt;</content></entry>
    <entry><id>x</id><title>b</title><link rel="alternate" href="{base}"/></entry></feed>"""

    problems = "\n".join(feed_problems(demo_build, feedparser.parse(broken)))

    assert "repeats the id" in problems and "has no <updated>" in problems and "relative link '../b/'" in problems
