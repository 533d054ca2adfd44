"""Where templates and static files come from: a project's own templates/email/ and templates/site/
first, then the defaults packaged with the tool (pipeline/templates/). A project file replaces the
packaged file of the same name and nothing else, like MkDocs' custom_dir: a project that overrides
nothing builds with the packaged templates alone, and an upgrade brings new templates with it."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.config import Config

PACKAGED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
KINDS = ("email", "site")


def template_folders(config: Config, kind: str) -> list[Path]:
    """The folders templates of `kind` ("email" or "site") are looked up in, the winner first."""
    project = config.templates_dir / kind
    packaged = PACKAGED_TEMPLATES / kind
    return [project, packaged] if project.is_dir() else [packaged]


def template_file(config: Config, kind: str, name: str) -> Path | None:
    """The file that `kind/name` (e.g. "site", "static/style.css") resolves to, or None."""
    for folder in template_folders(config, kind):
        path = folder / name
        if path.is_file():
            return path
    return None


def template_files(config: Config, kind: str, under: str = "", pattern: str = "*") -> dict[str, Path]:
    """{name relative to the kind's folder: the file it resolves to} of every file matching
    `pattern` under `under`, the project's and the packaged ones merged; hidden files left out."""
    merged: dict[str, Path] = {}
    for folder in reversed(template_folders(config, kind)):
        base = folder / under if under else folder
        if not base.is_dir():
            continue
        for path in base.rglob(pattern):
            relative = path.relative_to(folder)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                merged[relative.as_posix()] = path
    return dict(sorted(merged.items()))


def is_packaged(path: Path) -> bool:
    return path.resolve().is_relative_to(PACKAGED_TEMPLATES)


def display_path(path: Path | str, config: Config) -> str:
    """How an error names a template file: relative to the project when it is the project's own
    (templates/site/x.html.j2), else where the packaged file is installed."""
    path = Path(path).resolve()
    root = config.root.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
