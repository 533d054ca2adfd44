"""Shortcodes and template tags of other tools -> our Markdown.

Hugo `{{< name args >}}` / `{{% name args %}}` (paired with `{{< /name >}}`), Zola
`{{ name(key=value) }}` and `{% name(args) %}...{% end %}`, Jekyll's Liquid `{% tag %}` and
`{{ value }}`. Known ones become what we have: YouTube and Vimeo our ```video block (with a
Hugo or Zola `title` and `start`; Jekyll's `{% include youtube.html id=... %}` and the like, and
a player's raw `<iframe>`, too), figure/imgproc a picture with its caption, gist and tweet a
link, notice/callout/admonition a `> [!NOTE]` callout, highlight a code fence, ref/relref/post_url/link a link to the
imported post. Anything else stays visible as written, in a code span (so typography never
touches it), with a note naming its line: `newsletter check` reports it too
(pipeline/authoring/check/rules/foreign_tags.py). Fenced and inline code is never touched.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

FENCE_LINE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)

HUGO_ESCAPED = re.compile(r"\{\{([<%])/\*\s*(.*?)\s*\*/([>%])\}\}", re.DOTALL)
HUGO_TAG = re.compile(r"\{\{([<%])\s*(?P<close>/)?\s*(?P<name>[\w.-]+)(?P<args>.*?)\s*/?\s*[>%]\}\}", re.DOTALL)
ZOLA_INLINE = re.compile(r"\{\{\s*(?P<name>\w+)\((?P<args>.*?)\)\s*\}\}", re.DOTALL)
ZOLA_BODY = re.compile(r"\{%\s*(?P<name>\w+)\((?P<args>.*?)\)\s*%\}(?P<inner>.*?)\{%\s*end\s*%\}", re.DOTALL)
LIQUID_RAW = re.compile(r"\{%-?\s*(?:raw|endraw)\s*-?%\}")
LIQUID_HIGHLIGHT = re.compile(
    r"\{%-?\s*highlight\s+(?P<lang>[\w+#.-]+)[^%]*?-?%\}\n?(?P<code>.*?)\{%-?\s*endhighlight\s*-?%\}", re.DOTALL
)
LIQUID_TAG = re.compile(r"\{%-?\s*(?P<name>\w+)(?P<args>.*?)-?%\}", re.DOTALL)
LIQUID_VALUE = re.compile(r"\{\{-?\s*(?P<expr>.*?)\s*-?\}\}", re.DOTALL)
SITE_ROOT_VALUES = re.compile(r"\{\{-?\s*site\.(?:url|baseurl)\s*-?\}\}")
ZOLA_ARG = re.compile(r"(\w+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*'|\[[^\]]*\]|[^,\s)]+)")

EMBEDDED_VIDEO = re.compile(
    r"(?:youtube(?:-nocookie)?\.com/embed/|youtu\.be/)(?P<youtube>[\w-]{6,})|player\.vimeo\.com/video/(?P<vimeo>\d+)"
)
WATCHED_VIDEO = re.compile(r"youtube\.com/watch\?v=(?P<youtube>[\w-]{6,})|vimeo\.com/(?P<vimeo>\d+)")
IFRAME = re.compile(
    r"<iframe\b[^>]*?\bsrc\s*=\s*[\"'](?P<src>[^\"']+)[\"'][^>]*>\s*(?:</iframe\s*>)?", re.IGNORECASE | re.DOTALL
)

CALLOUT_KINDS = {
    "tip": "TIP",
    "hint": "TIP",
    "success": "TIP",
    "warning": "WARNING",
    "warn": "WARNING",
    "danger": "CAUTION",
    "caution": "CAUTION",
    "error": "CAUTION",
    "important": "IMPORTANT",
}
CALLOUTS = {"notice", "callout", "note", "tip", "warning", "info", "admonition", "alert", "aside"}
VIDEO_HOSTS = {
    "youtube": ("YouTube", "https://www.youtube.com/watch?v={}"),
    "vimeo": ("Vimeo", "https://vimeo.com/{}"),
    "vimeo_simple": ("Vimeo", "https://vimeo.com/{}"),
}
GENERIC_TITLES = {"youtube video player", "vimeo video player", "youtube", "vimeo", "video", "embedded content"}
FIGURES = {"figure", "beautifulfigure", "dimmable_image", "invertible_image", "full_width_image", "image_hover"}


@dataclass
class Context:
    """What a conversion needs from the reader of the site."""

    tool: str  # "hugo", "jekyll", "zola", "pelican"
    first_line: int  # the body's first line in the source file, for notes
    picture: Callable[[str], str | None] = lambda name: None  # a picture's path from the post, copied
    post_link: Callable[[str], str | None] = lambda ref: None  # another post's file, e.g. "x.md"
    notes: list[str] = field(default_factory=list)
    restore: Callable[[str], str] = lambda text: text  # puts set-aside code back (see _Code)


def convert(body: str, context: Context) -> str:
    if context.tool == "jekyll":
        body = LIQUID_HIGHLIGHT.sub(lambda m: f"```{m['lang']}\n{m['code'].strip(chr(10))}\n```", body)
        body = LIQUID_RAW.sub("", body)
    code = _Code()
    text = code.set_aside(body)
    context.restore = code.restore
    return code.restore(_convert_text(text, context.first_line, context))


class _Code:
    """Fenced code blocks and code spans set aside while shortcodes are converted (a paired
    shortcode may hold code), as placeholders with the same number of lines, put back after."""

    PLACEHOLDER = re.compile(r"\x00(\d+)\n*\x00")

    def __init__(self):
        self.pieces: list[str] = []

    def set_aside(self, body: str) -> str:
        out = []
        for is_code, chunk in _chunks(body):
            out.append(self._hold(chunk) if is_code else CODE_SPAN.sub(lambda m: self._hold(m.group(0)), chunk))
        return "".join(out)

    def _hold(self, text: str) -> str:
        self.pieces.append(text)
        tail = "\n" if text.endswith("\n") else ""
        body = text[: len(text) - len(tail)]
        return f"\x00{len(self.pieces) - 1}{chr(10) * body.count(chr(10))}\x00{tail}"

    def restore(self, text: str) -> str:
        return self.PLACEHOLDER.sub(
            lambda m: self.pieces[int(m[1])].removesuffix("\n") if False else self._piece(m), text
        )

    def _piece(self, match: re.Match) -> str:
        piece = self.pieces[int(match[1])]
        return piece[:-1] if piece.endswith("\n") else piece


def _chunks(body: str):
    """(is_code, text) for fenced code blocks and the text between them."""
    lines = body.splitlines(keepends=True)
    start, fence = 0, None
    for index, line in enumerate(lines):
        opened = FENCE_LINE.match(line)
        if fence is None and opened:
            if index > start:
                yield False, "".join(lines[start:index])
            start, fence = index, opened.group(1)
        elif fence is not None and opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
            yield True, "".join(lines[start : index + 1])
            start, fence = index + 1, None
    if start < len(lines):
        yield fence is not None, "".join(lines[start:])


def _convert_text(text: str, first_line: int, context: Context) -> str:
    def line_of(position: int) -> int:
        return first_line + text.count("\n", 0, position)

    def kept(match: re.Match, what: str) -> str:
        context.notes.append(
            f"line {line_of(match.start())}: {what} {_one_line(match.group(0))} kept as text: rewrite it"
        )
        return code_span(match.group(0))

    text = embedded_videos(text, context)
    if context.tool == "hugo":  # an escaped `{{</* x */>}}` (docs showing a shortcode) is shown as written
        escaped: list[str] = []

        def aside(match: re.Match) -> str:
            escaped.append(code_span(f"{{{{{match[1]} {match[2]} {match[3]}}}}}"))
            return f"\x01{len(escaped) - 1}\x01"

        text = _hugo(HUGO_ESCAPED.sub(aside, text), context, kept)
        text = re.sub(r"\x01(\d+)\x01", lambda m: escaped[int(m[1])], text)
    elif context.tool == "zola":
        text = ZOLA_BODY.sub(lambda m: _zola(m, m["inner"], context) or kept(m, "the Zola shortcode"), text)
        text = ZOLA_INLINE.sub(lambda m: _zola(m, "", context) or kept(m, "the Zola shortcode"), text)
    elif context.tool == "jekyll":
        text = SITE_ROOT_VALUES.sub("", text)
        text = LIQUID_TAG.sub(lambda m: _liquid(m, context) or kept(m, "the Liquid tag"), text)
        text = LIQUID_VALUE.sub(lambda m: kept(m, "the Liquid value"), text)
    return text


# ---------------------------------------------------------------- Hugo


def _hugo(text: str, context: Context, kept) -> str:
    out, position = [], 0
    while True:
        tag = HUGO_TAG.search(text, position)
        if tag is None:
            out.append(text[position:])
            return "".join(out)
        out.append(text[position : tag.start()])
        name, args = tag["name"], hugo_args(tag["args"])
        closing = None if tag["close"] else _closing(text, name, tag.end())
        inner = text[tag.end() : closing.start()] if closing else ""
        done = None if tag["close"] else _hugo_known(name, args, inner, closing is not None, context)
        if done is None:
            out.append(kept(tag, "the Hugo shortcode"))
            position = tag.end()
            continue
        out.append(done)
        position = closing.end() if closing else tag.end()


def _closing(text: str, name: str, start: int) -> re.Match | None:
    pattern = re.compile(r"\{\{[<%]\s*/\s*" + re.escape(name) + r"\s*[>%]\}\}")
    return pattern.search(text, start)


def hugo_args(written: str) -> dict:
    """{"0": first positional, ..., "key": value} of a Hugo shortcode's arguments."""
    try:
        tokens = shlex.split(written.replace("\n", " "))
    except ValueError:
        tokens = written.split()
    args: dict[str, str] = {}
    for index, token in enumerate(tokens):
        key, equals, value = token.partition("=")
        if equals and re.fullmatch(r"[\w-]+", key):
            args[key] = value
        else:
            args[str(index)] = token
    return args


def _hugo_known(name: str, args: dict, inner: str, paired: bool, context: Context) -> str | None:
    first = args.get("0", "")
    if name in VIDEO_HOSTS:
        return video_block(name, args.get("id") or first, args.get("title", ""), args.get("start", ""))
    if name in FIGURES:
        return _figure(
            args.get("src", ""),
            args.get("alt") or args.get("caption") or args.get("title", ""),
            args.get("caption") or args.get("title", ""),
            context,
        )
    if name == "imgproc" and paired:
        caption = " ".join(inner.split())
        return _figure(first, caption, caption, context)
    if name == "gist" and first:
        return f"[View the code on GitHub Gist](https://gist.github.com/{first}/{args.get('1', '')})"
    if name in ("tweet", "x"):
        return tweet_link(args.get("user", ""), args.get("id") or first)
    if name in ("ref", "relref"):
        return context.post_link(first)
    if name == "highlight" and paired:
        return f"\n```{first}\n{context.restore(inner).strip(chr(10))}\n```\n"
    if name in CALLOUTS and paired:
        return callout(first if name in ("notice", "callout", "alert") else name, context.restore(inner))
    return None


# ---------------------------------------------------------------- Zola


def zola_args(written: str) -> dict:
    return {key: _zola_value(value) for key, value in ZOLA_ARG.findall(written)}


def _zola_value(value: str) -> str:
    if value[:1] in "\"'" and value[-1:] == value[:1]:
        return value[1:-1].replace('\\"', '"')
    return value


def _zola(match: re.Match, inner: str, context: Context) -> str | None:
    name, args = match["name"], zola_args(match["args"])
    if name in VIDEO_HOSTS and args.get("id"):
        return video_block(name, args["id"], args.get("title", ""), args.get("start", ""))
    if name in FIGURES or name in ("dual_theme_image", "image_toggler"):
        src = args.get("src") or args.get("light_src") or args.get("default_src", "")
        alt = args.get("alt") or args.get("default_alt") or args.get("caption", "")
        return _figure(src, alt, args.get("caption", ""), context) if src else None
    if name in CALLOUTS:
        text = inner or args.get("text", "")
        return callout(args.get("type", name), context.restore(text)) if text.strip() else None
    if name == "gist" and args.get("url"):
        return f"[View the code on GitHub Gist]({args['url']})"
    return None


# ---------------------------------------------------------------- Jekyll (Liquid)


def _liquid(match: re.Match, context: Context) -> str | None:
    name, argument = match["name"], match["args"].strip()
    if name in ("youtube", "vimeo"):  # jekyll-youtube and the like: {% youtube ID %} or {% youtube "URL" %}
        return _liquid_video(name, argument.strip("\"'"))
    if name == "include":  # {% include youtube.html id="ID" %}, {% include video id="ID" provider="vimeo" %}
        included, _, rest = argument.partition(" ")
        args = hugo_args(rest)
        host = (args.get("provider") or included).lower()
        host = "vimeo" if "vimeo" in host else "youtube" if "youtube" in host else None
        video_id = args.get("id") or args.get("video_id") or args.get("0", "")
        return video_block(host, video_id, args.get("title", "")) if host and video_id else None
    if name == "post_url":
        return context.post_link(argument)
    if name == "link" and argument.startswith("_posts/"):
        return context.post_link(argument.removeprefix("_posts/"))
    return None


def _liquid_video(host: str, argument: str) -> str | None:
    found = EMBEDDED_VIDEO.search(argument) or WATCHED_VIDEO.search(argument)
    if found:
        return video_block("vimeo" if found["vimeo"] else "youtube", found["vimeo"] or found["youtube"])
    return video_block(host, argument.split()[0]) if argument else None


def embedded_videos(text: str, context: Context) -> str:
    """A YouTube or Vimeo <iframe> written in a Markdown post (Pelican, Jekyll): our ```video block."""

    def fence(match: re.Match) -> str:
        found = EMBEDDED_VIDEO.search(match["src"])
        if not found:
            return match.group(0)
        start = re.search(r"[?&;](?:start|t)=(\d+)", match["src"])
        title = re.search(r"\btitle=[\"']([^\"']*)", match.group(0))
        host = "vimeo" if found["vimeo"] else "youtube"
        video_id = found["vimeo"] or found["youtube"]
        block = video_block(host, video_id, title[1] if title else "", start[1] if start else "")
        return block or match.group(0)

    return IFRAME.sub(fence, text) if "<iframe" in text.lower() else text


# ---------------------------------------------------------------- what they become


def video_block(host: str, video_id: str, title: str = "", start: str = "") -> str | None:
    """Our ```video fence (docs/authoring.md, "Videos"), on lines of its own: the blog shows the
    video's thumbnail and plays it when pressed, the email links the thumbnail to the video."""
    if not video_id or not re.fullmatch(r"[\w-]+", video_id):
        return None
    url = VIDEO_HOSTS[host][1].format(video_id)
    if start and start.isdigit() and start != "0":
        url += f"&t={start}s" if host == "youtube" else f"#t={start}s"
    title = " ".join(title.split())
    lines = ["```video", f"url: {url}", *([f"title: {title}"] if title and title.lower() not in GENERIC_TITLES else [])]
    return "\n\n" + "\n".join(lines) + "\n```\n\n"


def tweet_link(user: str, post_id: str) -> str | None:
    if not post_id:
        return None
    if user:
        return f"[Read the post by @{user} on X](https://x.com/{user}/status/{post_id})"
    return f"[Read the post on X](https://x.com/i/status/{post_id})"


def callout(kind: str, inner: str) -> str:
    label = CALLOUT_KINDS.get(kind.lower().strip("\"'"), "NOTE")
    lines = inner.strip("\n").splitlines() or [""]
    quoted = "\n".join(f"> {line}".rstrip() for line in lines)
    return f"\n\n> [!{label}]\n{quoted}\n\n"


def _figure(src: str, alt: str, caption: str, context: Context) -> str | None:
    if not src:
        return None
    path = context.picture(src) or src
    alt = " ".join(alt.split()).replace("]", ")").replace("[", "(")
    text = f"![{alt}]({path})"
    return text + f"\n*{' '.join(caption.split())}*" if caption.strip() else text


def code_span(text: str) -> str:
    text = _one_line(text)
    ticks = "``" if "`" in text else "`"
    return f"{ticks} {text} {ticks}" if ticks == "``" else f"`{text}`"


def _one_line(text: str) -> str:
    return " ".join(text.split())
