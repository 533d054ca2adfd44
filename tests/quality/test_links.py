"""Links: LinkChecker (PyPI) over the built blog, internal links only, fragments included; plus
what LinkChecker leaves out: links to #ids within the same page, and the site's own absolute URLs
(canonical, og:url, the email's links into the blog) resolved against dist/site/. Bar: 0 broken.

The blog is served from a sub-path of a local web server (as it would be from a subfolder), so
directory links resolve to index.html as on a real host and links that assume the domain root
show up as broken. Every page is a start URL, so pages nothing links to are checked too.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from . import quality_support as qs

LINKCHECKER_CONFIG = """\
[checking]
threads=4
timeout=30
maxrequestspersecond=1000
[filtering]
checkextern=0
[AnchorCheck]
[output]
status=0
"""


@dataclass
class LinkReport:
    rows: list[dict]  # one per link with an error or a warning
    summary: str  # LinkChecker's own count, e.g. "That's it. 361 links in 120 URLs checked. ..."


def run_linkchecker(start_urls: list[str]) -> LinkReport:
    qs.require_module("linkcheck")
    # Run as root, LinkChecker drops to user nobody: its folder must be open to everyone.
    with tempfile.TemporaryDirectory(prefix="linkchecker-") as folder:
        workdir = Path(folder)
        workdir.chmod(0o777)
        config = workdir / "linkcheckerrc"
        config.write_text(LINKCHECKER_CONFIG)
        config.chmod(0o644)
        command = [
            sys.executable,
            "-m",
            "linkcheck",
            "--config",
            str(config),
            "--output",
            "csv",
            "--file-output",
            "text/utf-8/summary.txt",
            *start_urls,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=workdir)
        if result.returncode not in (0, 1):
            pytest.fail(f"linkchecker failed (exit {result.returncode}):\n{result.stderr[-3000:]}", pytrace=False)
        summary_file = workdir / "summary.txt"
        summary = (
            next((line for line in summary_file.read_text().splitlines() if line.startswith("That's it.")), "")
            if summary_file.exists()
            else ""
        )
    lines = [line for line in result.stdout.splitlines() if line and not line.startswith("#")]
    return LinkReport(list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter=";")), summary)


def is_broken(row: dict) -> bool:
    return (
        row["valid"] != "True" or "Anchor" in (row.get("warningstring") or "") and "not found" in row["warningstring"]
    )


def describe(row: dict, prefix: str) -> str:
    page = row["parentname"].removeprefix(prefix) or "(start)"
    reason = row["result"] if row["valid"] != "True" else row["warningstring"]
    return f"  {page} line {row['line']}: {row['urlname']!r} -> {reason}"


@pytest.fixture(scope="module")
def linkchecker_version():
    qs.require_module("linkcheck")
    result = subprocess.run([sys.executable, "-m", "linkcheck", "--version"], capture_output=True, text=True)
    return result.stdout.split("\n", 1)[0]


def test_no_internal_link_of_the_blog_is_broken(build, site_server, linkchecker_version):
    prefix = site_server.site_url(build)
    start_urls = [site_server.site_url(build, page) for page in build.pages()]
    report = run_linkchecker(start_urls)
    broken = [row for row in report.rows if is_broken(row)]

    print(
        f"{build.name}: {linkchecker_version}: {len(start_urls)} start pages; "
        f"{report.summary}; {len(broken)} broken links"
    )
    assert report.summary, f"{build.name}: LinkChecker wrote no summary, so it may have checked nothing"
    assert not broken, f"{build.name}: {len(broken)} broken links (page, line, link -> why):\n" + "\n".join(
        describe(r, prefix) for r in broken[:40]
    )


def absolute_site_links(html: str, base: str) -> list[str]:
    lxml_html = qs.require_module("lxml.html")
    document = lxml_html.document_fromstring(html)
    urls = [url for _, _, url, _ in document.iterlinks() if url.startswith(base)]
    urls += [url for url in document.xpath("//meta[@content]/@content") if url.startswith(base)]
    return sorted(set(urls))


def missing_from_site(build: qs.Build, urls: list[str]) -> list[str]:
    base_path = urlsplit(build.config.base_url).path
    missing = []
    for url in urls:
        path = urlsplit(url).path[len(base_path) :]
        target = build.site_dir / path
        if not (target.is_file() or (target / "index.html").is_file()):
            missing.append(url)
    return missing


def test_the_emails_links_into_the_blog_lead_to_built_pages(build):
    urls = absolute_site_links(build.email_html, build.config.base_url)
    # The unsubscribe and preferences pages are the reader service's (`newsletter serve`), not the blog's.
    service = (build.config.unsubscribe_url, build.config.readers_url + "preferences/")
    missing = missing_from_site(build, [u for u in urls if not u.startswith(service)])

    print(f"{build.name}: the email links to {len(urls)} addresses on the blog; {len(missing)} not in dist/site/")
    assert not missing, f"{build.name} email links to blog pages the build did not make:\n  " + "\n  ".join(missing)


def test_the_blogs_absolute_links_to_itself_lead_to_built_pages(build):
    problems = []
    for page in build.pages():
        urls = absolute_site_links((build.site_dir / page).read_text(encoding="utf-8"), build.config.base_url)
        problems += [f"{page}: {url}" for url in missing_from_site(build, urls)]

    print(
        f"{build.name}: {len(build.pages())} pages checked for absolute "
        f"self-links (canonical, og:url, feed); {len(problems)} missing"
    )
    assert not problems, f"{build.name}: absolute links to pages the build did not make:\n  " + "\n  ".join(
        problems[:40]
    )


def missing_same_page_targets(html: str) -> list[str]:
    """`href="#x"` links without an element of id x (LinkChecker does not check these)."""
    lxml_html = qs.require_module("lxml.html")
    document = lxml_html.document_fromstring(html)
    ids = set(document.xpath("//@id")) | set(document.xpath("//a/@name"))
    fragments = [href[1:] for href in document.xpath("//a/@href") if href.startswith("#") and len(href) > 1]
    return sorted({f"#{fragment}" for fragment in fragments if fragment not in ids})


def test_links_within_a_page_lead_to_an_element_of_that_page(build):
    problems = []
    for page in build.pages():
        problems += [
            f"{page}: {link}" for link in missing_same_page_targets((build.site_dir / page).read_text(encoding="utf-8"))
        ]

    print(f"{build.name}: same-page #links checked on {len(build.pages())} pages; {len(problems)} lead nowhere")
    assert not problems, f"{build.name}: links to #ids that the page does not have:\n  " + "\n  ".join(problems[:40])


def test_a_same_page_link_to_a_missing_id_is_caught():
    assert missing_same_page_targets('<p id="top"><a href="#top">up</a> <a href="#signup">join</a></p>') == ["#signup"]


def test_linkchecker_reports_a_broken_link_and_a_missing_anchor(site_server):
    """The canary: a page with a dead link and a link to a missing #fragment, served the same way."""
    folder = qs.session_dir() / "linkchecker-canary"
    (folder / "a").mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(
        '<!DOCTYPE html><title>i</title><a href="a/#nowhere">a</a> <a href="gone/">gone</a>'
    )
    (folder / "a" / "index.html").write_text('<!DOCTYPE html><title>a</title><h1 id="here">a</h1>')

    report = run_linkchecker([site_server.file_url(folder) + "/"])

    broken = {row["urlname"] for row in report.rows if is_broken(row)}
    assert broken == {"a/#nowhere", "gone/"}
