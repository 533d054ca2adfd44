"""HTML validity: the Nu HTML Checker (npm `vnu-jar` on the installed Java) on every blog page and
style sheet of both builds. Bar: 0 errors; warnings are printed.

vnu runs once for all files (one JVM start); each file is its own test.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from . import quality_support as qs


@pytest.fixture(scope="session")
def vnu_messages() -> dict[Path, list[dict]]:
    java = qs.require_command("java")
    jar = qs.vnu_jar()
    files = []
    for name in qs.BUILD_NAMES:
        build = qs.get_build(name)
        if not build.error:
            files += [build.site_dir / page for page in build.pages() + build.stylesheets()]
    if not files:
        return {}
    # -Xss8m: vnu's own -Xss512k hint overflows the stack here.
    command = [
        java,
        "-Xss8m",
        "-jar",
        str(jar),
        "--format",
        "json",
        "--exit-zero-always",
        "--also-check-css",
        *map(str, files),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(result.stderr or result.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"vnu.jar gave no JSON report (exit {result.returncode}):\n{(result.stderr or result.stdout)[-3000:]}",
            pytrace=False,
        )
    messages: dict[Path, list[dict]] = defaultdict(list)
    for message in report["messages"]:
        messages[Path(unquote(urlsplit(message.get("url", "")).path)).resolve()].append(message)
    return messages


def is_error(message: dict) -> bool:
    return message["type"] in ("error", "non-document-error") or message.get("subType") == "fatal"


def describe(page: str, message: dict) -> str:
    where = f"line {message.get('lastLine', '?')}:{message.get('firstColumn', message.get('lastColumn', '?'))}"
    extract = " ".join(message.get("extract", "").split())
    return f"  {page} {where}: {message['message']}" + (f"\n      at: {extract}" if extract else "")


def test_the_page_is_valid_html(site_file, vnu_messages):
    build = site_file.build
    messages = vnu_messages.get((build.site_dir / site_file.page).resolve(), [])
    errors = [m for m in messages if is_error(m)]
    warnings = [m for m in messages if not is_error(m) and m.get("subType") == "warning"]

    print(f"{site_file.id}: vnu {len(errors)} errors, {len(warnings)} warnings")
    for warning in warnings[:5]:
        print(describe(site_file.page, warning))
    assert not errors, f"Nu HTML Checker: {len(errors)} errors in {site_file.id}:\n" + "\n".join(
        describe(site_file.page, m) for m in errors[:20]
    )


def test_vnu_reports_an_invalid_page(tmp_path):
    """The canary: an <img> without alt and a stray </div> are errors."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><img src="a.png"></div></body></html>'
    )
    java = qs.require_command("java")

    result = subprocess.run(
        [java, "-Xss8m", "-jar", str(qs.vnu_jar()), "--format", "json", "--exit-zero-always", str(page)],
        capture_output=True,
        text=True,
        timeout=300,
    )

    errors = [m for m in json.loads(result.stderr)["messages"] if is_error(m)]
    assert len(errors) >= 2
