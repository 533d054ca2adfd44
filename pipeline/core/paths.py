"""Nothing outside the project is read or published. A path the writer names (a picture, a
poster) or a file found under content/ (a symbolic link, say) counts only if it resolves inside
the project folder; a symbolic link to another place in the project is followed, one that leads
out of it is refused with an error that says where it leads."""

from __future__ import annotations

from pathlib import Path


def resolves_inside(path: Path, folder: Path) -> bool:
    """True when `path`, with every symbolic link and `..` followed, lies in `folder`."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop, an unreadable folder
        return False


def outside_project_message(path: Path) -> str:
    target = path.resolve()
    return (
        f"is a symbolic link to {target}, outside the project folder: nothing outside it is published; "
        "copy the file into the project instead of linking to it"
    )
