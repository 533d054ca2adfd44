"""Template overrides that have fallen behind: a project's templates/email/X or templates/site/X
replaces the packaged X whole (pipeline/core/theme.py), so when a new version of the tool adds a
`{% block %}` or a `{% macro %}` to X, an override copied from an older version lacks it and the
pages or emails that fill or call it quietly lose that part. Each one missing is a warning at the
override, naming what to copy from the packaged file."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from jinja2 import nodes

from pipeline.core.model import WARNING, Finding
from pipeline.core.theme import KINDS, PACKAGED_TEMPLATES

if TYPE_CHECKING:
    from pipeline.authoring.check.project import Project

_PARSER = jinja2.Environment()  # parsing only: no loader, nothing rendered


def template_findings(project: Project) -> list[Finding]:
    findings = []
    for kind in KINDS:
        folder = project.config.templates_dir / kind
        for override in sorted(folder.rglob("*.j2")) if folder.is_dir() else []:
            packaged = PACKAGED_TEMPLATES / kind / override.relative_to(folder)
            if packaged.is_file():
                findings += override_findings(override, packaged, project.config.root)
    return findings


def override_findings(override: Path, packaged: Path, root: Path) -> list[Finding]:
    theirs, ours = _defined_names(packaged), _defined_names(override)
    if theirs is None or ours is None:  # a syntax error: the render rules report it, at its line
        return []
    shown = override.relative_to(root).as_posix()
    name = packaged.relative_to(PACKAGED_TEMPLATES).as_posix()
    return [
        Finding(
            shown,
            1,
            WARNING,
            f"this override has no {{% {tag} {missing} %}}, which the packaged {name} of newsletter "
            f"{_version()} has: copy it from {packaged}, or delete the override to use the packaged file",
            "templates.override-behind",
        )
        for tag, missing in sorted(theirs - ours)
    ]


def _defined_names(path: Path) -> set[tuple[str, str]] | None:
    """{("block", name), ("macro", name)} defined in the template, or None if it does not parse."""
    try:
        tree = _PARSER.parse(path.read_text(encoding="utf-8"))
    except jinja2.TemplateSyntaxError:
        return None
    blocks = {("block", block.name) for block in tree.find_all(nodes.Block)}
    return blocks | {("macro", macro.name) for macro in tree.find_all(nodes.Macro)}


def _version() -> str:
    try:
        return metadata.version("newsletter")
    except metadata.PackageNotFoundError:
        return "this version"
