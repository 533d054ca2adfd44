"""The preview's own pages (templates in templates/): the email side by side at 600 and 375 px, the
error panel, the live-reload script and the not-found page.
"""

from __future__ import annotations

from urllib.parse import quote

import jinja2
from markupsafe import Markup

from pipeline.authoring.check.rules.email import PREVIEW_TEXT_LIMIT, SUBJECT_LIMIT
from pipeline.authoring.preview.builder import Snapshot
from pipeline.build.emails import BuildResult, EmailBuild
from pipeline.tools.console import seconds


def chosen_version(good: BuildResult | None, version: str | None) -> EmailBuild | None:
    """The email version asked for by stage name; by default the one for readers without a stage."""
    if good is None or not good.emails:
        return None
    if version:
        return next((built for built in good.emails if built.stage == version), None)
    return good.email or good.emails[0]


def status(snapshot: Snapshot) -> dict:
    good = snapshot.good
    return {
        "tag": snapshot.tag,
        "ok": snapshot.ok,
        "errors": snapshot.errors,
        "week": good.week if good else None,
        "email": bool(good and good.emails),
        "versions": [built.stage for built in good.emails] if good else [],
        "seconds": round(snapshot.seconds, 3),
    }


# ---------------------------------------------------------------- pages

_PAGES = jinja2.Environment(
    loader=jinja2.PackageLoader("pipeline.authoring.preview", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

ERROR_PANEL = _PAGES.get_template("error_panel.html.j2")

RELOAD_SCRIPT = _PAGES.get_template("reload_script.html.j2")

NOT_FOUND_PAGE = _PAGES.get_template("not_found.html.j2")

PREVIEW_PAGE = _PAGES.get_template("preview.html.j2")


def preview_page(snapshot: Snapshot, version: str | None = None) -> str:
    good, config = snapshot.good, snapshot.config
    chosen = chosen_version(good, version)
    email = chosen.email if chosen else None
    query = f"?version={quote(chosen.stage)}" if chosen and chosen.stage else ""
    page = PREVIEW_PAGE.render(
        versions=_versions(good, chosen),
        asked=version or "",
        query=query,
        frame_query=(query.lstrip("?") + "&" if query else "") + f"v={snapshot.tag}",
        site_title=config.site.title if config else "newsletter",
        sender=config.email.sender_name if config else "",
        week=good.week if good else None,
        ok=snapshot.ok,
        finished=snapshot.finished_at.strftime("%H:%M:%S") if snapshot.finished_at else "",
        took=seconds(snapshot.seconds),
        email=email,
        size_kb=f"{len(email.html.encode()) / 1024:.1f}" if email else "0",
        subject_limit=SUBJECT_LIMIT,
        preview_limit=PREVIEW_TEXT_LIMIT,
        tag=snapshot.tag,
        errors=snapshot.errors,
    )
    return with_reload_script(page, snapshot, overlay=False)


def _versions(good: BuildResult | None, chosen: EmailBuild | None) -> list[tuple[str, str, bool]]:
    """(label, link, is the one shown) for each version of the week's email."""
    if good is None:
        return []
    return [
        (built.stage or "everyone", f"/?version={quote(built.stage)}" if built.stage else "/", built is chosen)
        for built in good.emails
    ]


def error_panel(errors: list[str], position: str, closable: bool) -> Markup:
    return Markup(ERROR_PANEL.render(errors=errors, position=position, closable=closable))


_PAGES.globals["error_panel"] = error_panel


def with_reload_script(page: str, snapshot: Snapshot, overlay: bool = True) -> str:
    """The page with the live-reload script before </body>, and over it the last build's errors
    (the preview page shows them in its own layout instead: `overlay=False`)."""
    script = RELOAD_SCRIPT.render(tag=snapshot.tag, errors=snapshot.errors if overlay else [])
    position = page.lower().rfind("</body>")
    return page + script if position < 0 else page[:position] + script + page[position:]
