"""`newsletter init DIR`: a new project a first-time writer can build at once - newsletter.toml
with every key explained, one sample article and one exercise card (the files under
authoring/starter/, packaged with the tool), and a .gitignore. No templates: the packaged ones
are used until the project overrides one (pipeline/core/theme.py).

It never overwrites: a folder that already holds a project, or any of the files, is refused
before anything is written."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from string import Template

from pipeline.core import clock
from pipeline.core.config import CONFIG_FILE
from pipeline.core.errors import PipelineError

STARTER = Path(__file__).resolve().parent / "starter"
RENAMED = {"gitignore": ".gitignore"}  # dot files are kept out of packages by some tools
DEFAULT_TITLE = "My Newsletter"


def starter_files() -> dict[str, Path]:
    """{path in the new project: the packaged file it is made from}."""
    files = {}
    for path in sorted(STARTER.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(STARTER).as_posix()
            files[RENAMED.get(relative, relative)] = path
    return files


def init_project(folder: Path, title: str = DEFAULT_TITLE, today: date | None = None) -> list[Path]:
    """Write the starter project into `folder` (made if missing); the files written, in order."""
    today = today or clock.today("UTC")
    _refuse_an_existing_project(folder)
    values = {"today": today.isoformat(), "title": _toml_safe(title)}
    files = sorted(starter_files().items(), key=lambda item: (item[0] != CONFIG_FILE, item[0]))
    texts = {name: Template(path.read_text(encoding="utf-8")).substitute(values) for name, path in files}
    written = []
    for name, text in texts.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as file:
            file.write(text)
        written.append(path)
    return written


def _refuse_an_existing_project(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise PipelineError(f"{folder} is a file: name a folder for the new project")
    if (folder / CONFIG_FILE).exists():
        raise PipelineError(f"{folder / CONFIG_FILE} already exists: {folder} is a project already")
    taken = [name for name in starter_files() if (folder / name).exists()]
    if taken:
        raise PipelineError(f"{folder / taken[0]} already exists: init a new or empty folder, nothing was written")
    content = folder / "content"
    if content.is_dir() and any(content.iterdir()):
        raise PipelineError(f"{content} already holds files: init a new or empty folder, nothing was written")


def _toml_safe(title: str) -> str:
    """The title as it goes between the double quotes of a TOML string."""
    title = " ".join(title.split()) or DEFAULT_TITLE
    return title.replace("\\", "\\\\").replace('"', '\\"')
