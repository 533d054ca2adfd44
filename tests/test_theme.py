"""Templates override file by file: a project's templates/email/ or templates/site/ file replaces
the packaged one of the same name; everything it does not override comes from the package."""

from __future__ import annotations

import filecmp

from helpers import REPO, build_project, override_template

from pipeline.authoring.check.runner import check_project
from pipeline.core.config import load_config
from pipeline.core.theme import KINDS, PACKAGED_TEMPLATES, template_file, template_files

WEEK = "2026-W48"


def test_a_project_template_wins_over_the_packaged_one(make_project):
    root = make_project(with_repo_content=True)
    base = override_template(root, "site/base.html.j2")
    base.write_text(base.read_text(encoding="utf-8").replace("</body>", "<p>Our own footer.</p></body>"))
    issue = override_template(root, "email/issue.mjml.j2")
    issue.write_text(issue.read_text(encoding="utf-8").replace("Unsubscribe</a>.", "Leave any time</a>."))

    build_project(load_config(root), WEEK)

    assert "<p>Our own footer.</p>" in (root / "dist/site/index.html").read_text(encoding="utf-8")
    assert "<p>Our own footer.</p>" not in (PACKAGED_TEMPLATES / "site/base.html.j2").read_text(encoding="utf-8")
    email = (root / f"dist/email/{WEEK}/index.html").read_text(encoding="utf-8")
    assert "Leave any time</a>." in email and "Unsubscribe</a>." not in email


def test_a_project_without_templates_builds_with_the_packaged_ones(make_project):
    root = make_project(with_repo_content=True)
    for path in sorted((root / "templates").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (root / "templates").rmdir()

    build_project(load_config(root), WEEK)

    packaged_css = (PACKAGED_TEMPLATES / "site/static/style.css").read_bytes()
    assert (root / "dist/site/static/style.css").read_bytes() == packaged_css
    assert (root / f"dist/email/{WEEK}/index.html").is_file()


def test_an_override_of_one_static_file_keeps_the_other_packaged_ones(make_project):
    config = load_config(make_project())
    files = template_files(config, "site", under="static")
    assert files["static/favicon.svg"] == config.root / "templates/site/static/favicon.svg"
    assert files["static/style.css"] == PACKAGED_TEMPLATES / "site/static/style.css"
    assert template_file(config, "site", "static/video.js") == PACKAGED_TEMPLATES / "site/static/video.js"


def test_the_demo_templates_hold_only_real_overrides():
    """The demo's templates/ is a project like any writer's: each file there replaces a packaged
    file of its name and differs from it (a new default template belongs in pipeline/templates/)."""
    for kind in KINDS:
        folder = REPO / "templates" / kind
        if folder.is_symlink() and folder.resolve() == (PACKAGED_TEMPLATES / kind).resolve():
            continue  # templates/email: the packaged email templates themselves, where the layout puts them
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                packaged = PACKAGED_TEMPLATES / path.relative_to(REPO / "templates")
                assert packaged.is_file(), f"{path.relative_to(REPO)} overrides nothing: move it to {packaged}"
                assert not filecmp.cmp(path, packaged, shallow=False), f"{path.relative_to(REPO)} is a copy"


def test_check_warns_when_an_override_lacks_a_block_the_packaged_template_has(make_project):
    root = make_project(with_repo_content=True)
    base = override_template(root, "site/base.html.j2")
    text = base.read_text(encoding="utf-8")
    start = text.index("{% block head %}")
    base.write_text(text[:start] + text[text.index("{% endblock %}", start) + len("{% endblock %}") :])

    findings = [f for f in check_project(root, WEEK).findings if f.rule == "templates.override-behind"]

    assert [(f.path, f.line, f.severity) for f in findings] == [("templates/site/base.html.j2", 1, "warning")]
    assert (
        "{% block head %}" in findings[0].message
        and str(PACKAGED_TEMPLATES / "site/base.html.j2") in findings[0].message
    )


def test_check_warns_when_an_override_lacks_a_macro_the_packaged_template_has(make_project):
    root = make_project(with_repo_content=True)
    macros = override_template(root, "site/_macros.html.j2")
    text = macros.read_text(encoding="utf-8")
    macros.write_text(text + "\n{% macro extra() %}{% endmacro %}\n")  # an addition of its own is fine
    assert [f for f in check_project(root, WEEK).findings if f.rule == "templates.override-behind"] == []

    macros.write_text(text.replace("{% macro date_tag", "{% macro dated_tag", 1))
    (finding,) = [f for f in check_project(root, WEEK).findings if f.rule == "templates.override-behind"]
    assert "{% macro date_tag %}" in finding.message
