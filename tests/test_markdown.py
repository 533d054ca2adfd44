"""Markdown -> HTML: each channel's links, and the faster Python-Markdown giving the same HTML."""

from __future__ import annotations

import random
import threading

import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.render import lists
from pipeline.render.markdown import (
    EXTENSION_CONFIGS,
    EXTENSIONS,
    MarkdownRenderer,
    SkipImpossibleMatches,
    inline_triggers,
)
from pipeline.render.typography import _COMPILED, Typography, _matches

EVERY_CONSTRUCT = """\
Title with *emphasis*
=====================

A paragraph with "double quotes", 'single quotes', it's, the '90s, "'nested' quotes",
an en--dash, an em---dash, an ellipsis... and **strong**, _underscore_, ***both***,
`code`, ``co`de``, \\*escaped\\*, a back\\\\slash, AT&T, &copy; &#8212; and a 5 < 6 > 4.
A [link](https://example.org/a "Title"), a [reference][ref], a [short ref], an
![image](photo.png), an ![image reference][ref], <https://example.org/auto>,
<someone@example.org>, <b>raw html</b>, <!-- a comment --> and HTML.
A line that ends in two spaces\x20\x20
breaks there.[^note]

Subtitle
--------

## Hashed heading {: #custom-id .custom-class }

* * *

> A quote with a "quote".
>
> > And a nested one.

1. One
2. Two with *emphasis*
    - nested item
    - another

- Dash item
+ Plus item

A paragraph between.

    indented code with 'quotes'

```python
fenced = "code -- with 'quotes'..."
```

| Column | Other |
|:-------|------:|
| cell   | 'two' |

Term
: Its definition -- with a dash.

<div markdown="1">
Markdown *inside* HTML.
</div>

<div>
Raw block HTML, left alone.
</div>

[ref]: https://example.org/ref "Reference title"
[short ref]: https://example.org/short
[^note]: A footnote with 'quotes'.
*[HTML]: Hyper Text Markup Language
"""

PIECES = [
    "word",
    "it's",
    "'quoted'",
    '"double"',
    "\"'mixed'\"",
    "'80s",
    "--",
    "---",
    "...",
    "....",
    "*em*",
    "**strong**",
    "_u_",
    "__uu__",
    "***x***",
    "`code`",
    "``a`b``",
    "\\*",
    "\\\\",
    "[link](https://a.example/x)",
    "[ref][r]",
    "[r]",
    "![img](i.png)",
    "![alt][r]",
    "<https://auto.example>",
    "<me@mail.example>",
    "<b>html</b>",
    "<!-- c -->",
    "&amp;",
    "&copy;",
    "&#8212;",
    "&",
    "<",
    ">",
    "  \n",
    "\n",
    "\n\n",
    "# H",
    "## H2 ##",
    "Title\n=====",
    "Sub\n---",
    "* * *",
    "- - -",
    "___",
    "> quote",
    "> > nested",
    "1. one",
    "2) two",
    "- item",
    "* item",
    "+ item",
    "    code",
    "```\nfence\n```",
    "~~~\nf\n~~~",
    "Term\n: def",
    "a | b\n--|--\n1 | 2",
    "|x|\n|-|\n|y|",
    "[^1]",
    "[^1]: note",
    "*[HTML]: Hyper",
    "HTML",
    '[r]: https://r.example "T"',
    "{: .cls }",
    '<div markdown="1">*x*</div>',
    "'",
    '"',
    "\t",
    " ",
    "#",
    "|",
    ":",
    "]:",
    "*[",
    "[^",
    "\u00a0",
    "—",
    "–",
]


def stock_markdown() -> markdown.Markdown:
    return markdown.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html")


def faster_markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[*EXTENSIONS, SkipImpossibleMatches()], extension_configs=EXTENSION_CONFIGS, output_format="html"
    )


def convert(md: markdown.Markdown, text: str) -> str:
    return md.reset().convert(text)


# --- the faster Python-Markdown ----------------------------------------------------------------


def test_gives_python_markdowns_html_for_every_construct_we_use():
    expected = convert(stock_markdown(), EVERY_CONSTRUCT)
    for made_by in (
        "&ldquo;",
        "&rsquo;",
        "&ndash;",
        "&mdash;",
        "&hellip;",
        "<em>",
        "<code>",
        "<img",
        "<table>",
        "<dl>",
        "<blockquote>",
        "<hr",
        "<h1",
        "<h2",
        'id="custom-id"',
        'class="footnote"',
        "<abbr",
        "<br",
        '<a href="&#109;&#97;&#105;&#108;',  # an obfuscated mailto:
        "<pre><code>",
        'class="language-python"',
    ):
        assert made_by in expected  # the document does exercise that construct
    assert convert(faster_markdown(), EVERY_CONSTRUCT) == expected


def test_gives_python_markdowns_html_for_mixtures_of_constructs():
    rng = random.Random(2026)
    stock, faster = stock_markdown(), faster_markdown()
    for _ in range(1500):
        text = "".join(rng.choice(PIECES) + rng.choice(["", " ", "\n", "\n\n"]) for _ in range(rng.randint(1, 25)))
        assert convert(faster, text) == convert(stock, text), text


def test_gives_the_same_html_over_many_conversions_with_one_instance():
    stock, faster = stock_markdown(), faster_markdown()
    for text in [
        EVERY_CONSTRUCT,
        "Plain words only.",
        "[a]: https://a.example\n\n[a]",
        "*[HTML]: x\n\nHTML",
        "[a] 'b'",
    ] * 2:
        assert convert(faster, text) == convert(stock, text)


def test_every_inline_pattern_has_triggers():
    """A pattern without triggers is searched for in every text, and the pass can no longer be
    skipped on text without any trigger: a Markdown release that changes a regex shows up here."""
    patterns = faster_markdown().treeprocessors["inline"].inlinePatterns
    assert [type(pattern).__name__ for pattern in patterns if inline_triggers(pattern) is None] == []


# --- typography in one pass: smarty's HTML ---------------------------------------------------------

QUOTES = [
    "He said, \"'Quoted' words in a larger quote.\"",
    "the '80s, rock 'n' roll, 'Tis the season, don't 'quote' me",
    '"Hello," she said -- and left... a---b ---- c',
    "It's \"*emph*\" and '**bold**', `code 'x'` and 'y'",
    "\"'x'\" and x\"'y and x'\"y, ('paren') [\"bracket\"]",
    "&nbsp;'quoted' &mdash;'dash' \u2013'en' \u2014\"em\"",
    "<span title=\"a 'b'\">c 'd'</span> ![alt 'x'](a.png \"t 'y'\")",
    "\\'escaped\\' \\\"too\\\"",
    "a...b....c, 5 o'clock... 'really'?",
    "- item 'one'\n- item \"two\"\n\n> quote 'q' -- \"qq\"\n\n| a | b |\n|---|---|\n| 'x' | \"y\" |\n",
    "Term\n: def 'x'\n\n*[HTML]: Hyper 'Text'\n\nHTML 'here'\n\nNote[^1]\n\n[^1]: a 'note'",
    "    code 'block'\n\n```\nfenced 'x'\n```\n\n<div>\n'raw block'\n</div>\n\nafter 'z'",
    "''double'' \"\"twice\"\" '\"'\"'",
]


def smarty_markdown() -> markdown.Markdown:
    """Our extensions with Python-Markdown's smarty where ours has its one-pass typography."""
    extensions = ["smarty" if isinstance(extension, Typography) else extension for extension in EXTENSIONS]
    return markdown.Markdown(extensions=extensions, extension_configs=EXTENSION_CONFIGS, output_format="html")


@pytest.mark.parametrize("text", [EVERY_CONSTRUCT, *QUOTES])
def test_typography_gives_smartys_html(text):
    assert convert(stock_markdown(), text) == convert(smarty_markdown(), text)


def test_typography_gives_smartys_html_for_mixtures_of_quotes_and_constructs():
    rng = random.Random(2027)
    ours, smartys = stock_markdown(), smarty_markdown()
    pieces = [*PIECES, "'", '"', "--", "...", " '", "' ", '"x', "x'", "'s ", "'80s"]
    for _ in range(1500):
        text = "".join(rng.choice(pieces) + rng.choice(["", " ", "\n", "\n\n"]) for _ in range(rng.randint(1, 25)))
        assert convert(ours, text) == convert(smartys, text), text


TYPOGRAPHY_PIECES = ["'", '"', "--", "---", "...", "....", " ", "\n", "a", "s", "80s", "&nbsp;", "&mdash;", "&#8211;"]
TYPOGRAPHY_PIECES += ["\u2013", "-", "(", "[", "\x02", "\x03", "x", "1", ".", "'s", "\"'", "'\""]


def test_rules_tried_only_where_their_trigger_is_find_what_searching_everywhere_finds():
    rng = random.Random(2026)
    for _ in range(5000):
        text = "".join(rng.choice(TYPOGRAPHY_PIECES) for _ in range(rng.randint(1, 20)))
        for regex, _, trigger in _COMPILED:
            expected = [match.span() for match in regex.finditer(text)]
            assert [match.span() for match in _matches(regex, text, trigger)] == expected, text


def test_a_private_use_character_in_the_text_is_left_as_written():
    text = "Mark \ue001 and \ue003 stay -- 'quoted'"
    assert convert(stock_markdown(), text) == convert(smarty_markdown(), text)
    assert "\ue001" in convert(stock_markdown(), text)


# --- links for each channel, with one shared Python-Markdown -------------------------------------


def test_each_renderer_writes_links_for_its_own_channel():
    blog = MarkdownRenderer("https://strongfromwithin.example/", site_root="../../")
    email = MarkdownRenderer("https://strongfromwithin.example/", absolute=True)
    text = "See [the clam](../exercises/side-lying-clam.md)."
    path = "content/articles/wake-up-your-glutes.md"
    for _ in range(2):  # alternating: the shared instance follows the renderer converting
        assert 'href="../../exercises/side-lying-clam/"' in blog.convert(text, path)
        assert 'href="https://strongfromwithin.example/exercises/side-lying-clam/"' in email.convert(text, path)


def test_renderers_in_several_threads_each_get_their_own_links():
    text = "See [the clam](../exercises/side-lying-clam.md) and [%d](../exercises/bridge.md)."
    path = "content/articles/wake-up-your-glutes.md"
    failures: list[str] = []

    def convert_many(site_root: str, expected: str):
        renderer = MarkdownRenderer("https://strongfromwithin.example/", site_root=site_root)
        for n in range(300):
            html = renderer.convert(text % n, path)
            if f'href="{expected}exercises/side-lying-clam/"' not in html or f">{n}</a>" not in html:
                failures.append(html)

    threads = [threading.Thread(target=convert_many, args=(root, root)) for root in ("../", "../../", "../../../")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# Lists of the usual shape skip the CommonMark parse (render/lists.py): only where it changes nothing.
LIST_SHAPES = [
    *["", "", "Some text.", "- a", "- b", "* c", "+ d", "1. one", "2. two", "3) three", "10. ten", "2019. year"],
    *["- - a", "- 1. x", "* * *", "- - -", "---", "## Heading", "```", "> - q", "> quote", "<div>", "</div>"],
    *["    - indented", "  - two spaces", "\t- tab", "-\tx", "-", "1.", "    code", "-a", "1.5 kg", "text - dash"],
]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(LIST_SHAPES), max_size=12))
def test_a_text_read_alike_without_the_commonmark_parse_is_one_the_parse_leaves_as_it_is(lines):
    text = "\n".join(lines)
    if lists.read_alike(text):
        assert lists.reindented(text) == text


def test_the_usual_lists_of_an_article_skip_the_parse_and_a_list_after_text_does_not():
    assert lists.read_alike("Steps:\n\n- Breathe in.\n- Breathe out.\n\n1. Lie down.\n2. Rest.\n\nDone.")
    assert not lists.read_alike("Steps:\n- Breathe in.")
    assert lists.as_python_markdown("Steps:\n- Breathe in.") == "Steps:\n\n- Breathe in."
