"""`newsletter build`: gather everything first, then write.

Loading, assembly and rendering happen in memory; only when every page and the email rendered
without error does anything reach dist/, each tree swapped in whole.

A week with one email for everyone writes it to dist/email/<week>/. A week with stage versions
(pipeline/core/stages.py) writes the version for readers without a stage tag (`general`) there, and
each stage's version to dist/email/<week>/<stage>/ - so dist/email/<week>/email.eml is always
an email anyone may safely read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.build.cache import SPARE_FOLDER, BuildCache, BuildInputs
from pipeline.build.emails import (
    BuildResult,
    output_folders,
    render_week_emails,
    with_week,
    write_emails,
)
from pipeline.build.images import PreparedPictures, prepare_pictures
from pipeline.build.rebuild import quick_rebuild, site_facts
from pipeline.content.assemble import resolve_week
from pipeline.content.load import load_content
from pipeline.core.clock import EPOCH_VARIABLE, build_time
from pipeline.core.config import CONFIG_FILE, Config
from pipeline.core.model import MailingList, WebCopy
from pipeline.core.theme import PACKAGED_TEMPLATES
from pipeline.render.blog import render_site
from pipeline.render.images import VARIANT_FOLDER
from pipeline.tools.cache_store import CACHE_FOLDER
from pipeline.tools.files import KEPT, FileData, files_in, moved_into, staged, write_tree
from pipeline.tools.fingerprint import (
    code_fingerprint,
    digest,
    output_manifest,
    stat_fingerprint,
)


def build_inputs(
    config: Config, week: str | None, provider: MailingList, now: datetime, archive: Sequence[WebCopy] = ()
) -> BuildInputs:
    """What a build reads, cheap to take on every build: a fingerprint of the code, the settings,
    the templates (stat), the provider's signup form, the week asked for and the day (or
    SOURCE_DATE_EPOCH); and the stat of every content file, which changes whenever one is saved."""
    settings = [
        code_fingerprint(),
        repr(config),
        type(provider).__name__,
        repr(provider.signup_form()),
        repr(week),
        now.astimezone(ZoneInfo(config.email.timezone)).date().isoformat(),
        digest(repr(list(archive))),
    ]
    settings.append(os.environ.get(EPOCH_VARIABLE, ""))
    templates = [PACKAGED_TEMPLATES, *([config.templates_dir] if config.templates_dir.is_dir() else [])]
    return BuildInputs(
        stat_fingerprint(templates, settings + _file_stats(config.root / CONFIG_FILE)),
        output_manifest([config.content_dir]),
    )


def _file_stats(path: Path) -> list[str]:
    try:
        stat = path.stat()
    except OSError:
        return ["no config file"]
    return [f"{stat.st_size}|{stat.st_mtime_ns}"]


def build(
    config: Config,
    week: str | None,
    provider: MailingList,
    now: datetime | None = None,
    use_cache: bool = True,
    archive: Sequence[WebCopy] = (),
) -> BuildResult:
    """`use_cache=False` (--no-cache) ignores .newsletter/cache/ and builds everything; either
    way the cache left behind lets the next build redo only what changed (pipeline/build/cache.py):
    nothing when nothing changed, only the pages showing an article when its body changed
    (pipeline/build/rebuild.py).

    `archive`: the web copies of the issues pushed so far (the ledger's, read by the command line),
    shown under issues/ as they went out; the week being built adds its own versions that were not
    pushed yet."""
    now = now or build_time()
    cache = BuildCache(config.state_dir / CACHE_FOLDER, use=use_cache)
    try:
        inputs = build_inputs(config, week, provider, now, archive)
        unchanged = cache.unchanged_result(inputs, lambda result: output_folders(config, result.week))
        if unchanged is not None:
            return unchanged
        quick = quick_rebuild(config, inputs, cache, provider, now, archive)
        if quick is not None:
            return quick
        return _full_build(config, week, provider, now, cache, inputs, archive)
    finally:
        cache.close()


def _full_build(
    config: Config,
    week: str | None,
    provider: MailingList,
    now: datetime,
    cache: BuildCache,
    inputs: BuildInputs,
    archive: Sequence[WebCopy],
) -> BuildResult:
    content = load_content(config, cache.parsed)
    week = resolve_week(content, week, config, now)
    prepared = prepare_pictures(config, content)  # before anything renders: a bad picture stops the build here
    rendered = render_week_emails(config, content, week, provider, now, prepared.pictures)
    pages = cache.pages(config.dist_dir / "site")
    site_files = render_site(
        content,
        config,
        provider.signup_form(),
        now,
        pages,
        cache.feed_entries,
        prepared.pictures,
        with_week(archive, [email for email, _ in rendered]),
    )
    dist = config.dist_dir
    previous = cache.previous_files(dist / "site")
    site_files |= _kept_variants(dist / "site", prepared, previous)
    with staged(
        dist, spare=config.state_dir / SPARE_FOLDER
    ) as scratch:  # readers of dist/ see the old build or this one, whole
        _write_site(scratch / "site", moved_into(site_files, dist, scratch), previous)
        builds = write_emails(config, week, rendered, into=scratch)
    result = BuildResult(
        week=week,
        site_dir=config.dist_dir / "site",
        site_files=len(site_files),
        emails=builds,
        load_warnings=content.warnings,
    )
    cache.save(inputs, output_folders(config, week), result, pages.keys, site_facts(content, week, prepared))
    return result


def _write_site(site_dir: Path, site_files, previous) -> None:
    """With the cache: only the pages whose key changed. Without it (--no-cache, or no usable
    record) over an existing site: in place, leaving each file that already holds its new bytes,
    instead of writing 11,000 files into a new tree and deleting the old one."""
    if previous is not None:
        write_tree(site_dir, site_files, previous=previous)
    else:
        write_tree(site_dir, site_files, previous=files_in(site_dir), keep_identical=True)


def _kept_variants(site_dir: Path, prepared: PreparedPictures, previous: set[str] | None) -> dict[str, FileData]:
    """The resized pictures to write: a variant the last build already wrote stays as it is (its
    name is its content hash, so the file is the same), others are copied from the picture cache."""
    written = _names_in(site_dir / VARIANT_FOLDER) if previous is not None else set()  # one listing, no stats
    kept: dict[str, FileData] = {}
    for path, variant in prepared.variants.items():  # every variant is a file of VARIANT_FOLDER
        here = previous is not None and path in previous and variant.name in written
        kept[path] = KEPT if here else prepared.cached_file(variant)
    return kept


def _names_in(folder: Path) -> set[str]:
    try:
        with os.scandir(folder) as entries:
            return {entry.name for entry in entries if entry.is_file(follow_symlinks=False)}
    except OSError:
        return set()
