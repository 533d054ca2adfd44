"""A video in an article's prose: a fenced block whose info string is `video`, like the
```` ```exercise ```` fence, with `key: value` lines:

    ```video
    url: https://www.youtube.com/watch?v=aqz-KE-bpKQ
    title: Breathing into the side ribs
    ```

`url` (https, required) is the video; `title` (optional) names it on its thumbnail and in its
link. How each channel shows it is render/video.py's and render/markdown.py's job; here the
fences are found and checked, so a mistake is a file:line error in `build` and `check` alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VIDEO_INFO = "video"
VIDEO_KEYS = ("url", "title")
DEFAULT_TITLE = "Video"  # drawn on the thumbnail of a video with no title
_FENCE_OPEN = re.compile(r"^ {0,3}(?P<marker>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*$")
_KEY_LINE = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:\s*(?P<value>.*?)\s*$")


@dataclass(frozen=True)
class FencedVideo:
    url: str
    title: str
    line: int  # 1-based, in the text it was found in: the opening fence
    problems: tuple[tuple[int, str], ...] = ()  # (line, what to fix)


def may_hold_videos(text: str) -> bool:
    return "```video" in text or "~~~video" in text or "``` video" in text


def fenced_videos(text: str) -> list[tuple[int, int, FencedVideo]]:
    """(first line index, index after the closing line, the video) of every `video` fence of
    `text` that is not inside another fenced block; an unclosed one runs to the end."""
    lines = text.split("\n")
    found, index = [], 0
    while index < len(lines):
        opened = _FENCE_OPEN.match(lines[index])
        if not opened:
            index += 1
            continue
        marker = opened["marker"]
        end = next((i for i in range(index + 1, len(lines)) if _closes(lines[i], marker)), None)
        if opened["info"].split(maxsplit=1)[:1] == [VIDEO_INFO]:
            body = lines[index + 1 : end if end is not None else len(lines)]
            video = _video(body, index + 1, closed=end is not None, marker=marker)
            found.append((index, (end + 1) if end is not None else len(lines), video))
        index = (end + 1) if end is not None else len(lines)
    return found


def _closes(line: str, marker: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(marker[0] * len(marker)) and set(stripped) == {marker[0]}


def _video(body: list[str], line: int, closed: bool, marker: str) -> FencedVideo:
    values: dict[str, str] = {}
    problems: list[tuple[int, str]] = []
    if not closed:
        problems.append((line, f"the ```video block is not closed: add a line {marker} after its last key"))
    for offset, text in enumerate(body, start=1):
        if not text.strip():
            continue
        match = _KEY_LINE.match(text.strip())
        if not match:
            problems.append((line + offset, f"'{text.strip()}' in a ```video block: write it as  url: https://..."))
            continue
        key, value = match["key"], _unquoted(match["value"])
        if key not in VIDEO_KEYS:
            problems.append((line + offset, f"unknown key '{key}' in a ```video block: use {' or '.join(VIDEO_KEYS)}"))
        else:
            values[key] = value
    url = values.get("url", "")
    if not url:
        problems.append((line, "the ```video block has no url: add a line  url: https://www.youtube.com/watch?v=..."))
    elif not url.startswith("https://"):
        problems.append((line, f"the ```video url '{url}' is not an https:// address: paste the video's https:// link"))
    return FencedVideo(url=url, title=" ".join(values.get("title", "").split()), line=line, problems=tuple(problems))


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
