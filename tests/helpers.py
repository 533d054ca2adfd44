"""Helpers the tests import by name (`from helpers import REPO, assert_golden`).

They live here rather than in conftest.py because tests/quality has a conftest.py of its own,
and `from conftest import` would pick whichever pytest imported last."""

from __future__ import annotations

import io
import os
import shutil
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def days_ahead(days: int, hour: int = 8, minute: int = 0, zone: timezone = UTC) -> datetime:
    """`hour:minute` (in `zone`) on the day `days` days from now: a send time that is in the
    future whatever day the suite runs on."""
    day = datetime.now(zone).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def copy_repo_project(root: Path) -> Path:
    """The repo's own content, templates and settings, as `newsletter build` finds them."""
    root.mkdir(parents=True, exist_ok=True)
    for folder in ("content", "templates"):
        shutil.copytree(REPO / folder, root / folder, dirs_exist_ok=True)
    shutil.copy(REPO / "newsletter.toml", root / "newsletter.toml")
    return root


def override_template(root: Path, name: str) -> Path:
    """A project's own copy of the packaged template `name` ("site/base.html.j2"), made as a writer
    makes an override: copied into the project's templates/, where it wins over the packaged one."""
    from pipeline.core.theme import PACKAGED_TEMPLATES

    path = root / "templates" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PACKAGED_TEMPLATES / name, path)
    return path


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Text is dedented; bytes (a picture, say) are written as they are."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def picture(width: int = 64, height: int = 48, format: str = "JPEG", mode: str = "RGB") -> bytes:
    """A real picture of that size: a gradient with some noise, like a photo (Pillow)."""
    from PIL import Image

    noise = Image.effect_noise((width, height), 24).convert("L")
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    if mode != "RGB":
        image = image.convert(mode)
    output = io.BytesIO()
    image.save(output, format=format)
    return output.getvalue()


def assert_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/<name>; `make golden` (UPDATE_GOLDEN=1) rewrites it instead."""
    path = GOLDEN_DIR / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden file tests/golden/{name} is missing: run `make golden` and review the diff")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from tests/golden/{name}: review, then `make golden` if intended"


def build_project(config, week, **options):
    """A build for the project's configured list, as `newsletter build` runs it."""
    from pipeline.cli.main import build_for_list

    return build_for_list(config, week, **options)
