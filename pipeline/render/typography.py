"""Smart quotes, dashes and ellipses in one pass over the text of the parsed tree.

Python-Markdown's `smarty` extension does this with a second full inline pass: for every text
node it builds a parent map, runs 18 patterns through the inline machinery and rebuilds the text
from placeholders - about half of the time of converting an article. `Typography` gives the same
HTML (the same rules, applied in the same order to the same text) with a plain loop: each rule's
regex is searched in the text, each match becomes a placeholder of the shape smarty's would have
(so the rules after it see exactly what they see under smarty), and at the end the placeholders
become the entities. Text that holds none of ' " -- ... is not looked at twice.

smarty stores each entity as raw HTML, and Python-Markdown puts raw HTML back with one regex over
the whole page that cannot skip ahead (about 2 ms for an article). Here each entity is a
private-use character in the tree, swapped for the entity in the finished HTML by plain string
replaces; a text that already holds one of those characters gets smarty's raw-HTML way instead.
"""

from __future__ import annotations

import html
import re
from xml.etree.ElementTree import Element

from markdown import util
from markdown.extensions import Extension, smarty
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

# smarty's rules, in its order (its registry priorities: dashes 50 and 45, quotes 30 down to 16,
# ellipses 10). Each: a regex, what replaces a match (a group number or an entity), and the
# string every match contains.
_LSQUO, _RSQUO, _LDQUO, _RDQUO = "&lsquo;", "&rsquo;", "&ldquo;", "&rdquo;"
_RULES: list[tuple[str, tuple[int | str, ...], str]] = [
    (r"(?<!-)---(?!-)", ("&mdash;",), "---"),
    (r"(?<!-)--(?!-)", ("&ndash;",), "--"),
    (smarty.singleQuoteStartRe, (_RSQUO,), "'"),
    (smarty.doubleQuoteStartRe, (_RDQUO,), '"'),
    (smarty.doubleQuoteSetsRe, (_LDQUO + _LSQUO,), "\"'"),
    (smarty.singleQuoteSetsRe, (_LSQUO + _LDQUO,), "'\""),
    (smarty.doubleQuoteSetsRe2, (_RSQUO + _RDQUO,), "'\""),
    (smarty.singleQuoteSetsRe2, (_RDQUO + _RSQUO,), "\"'"),
    (smarty.decadeAbbrRe, (_RSQUO,), "'"),
    (smarty.openingSingleQuotesRegex, (1, _LSQUO), "'"),
    (smarty.closingSingleQuotesRegex, (_RSQUO,), "'"),
    (smarty.closingSingleQuotesRegex2, (_RSQUO, 1), "'"),
    (smarty.remainingSingleQuotesRegex, (_LSQUO,), "'"),
    (smarty.openingDoubleQuotesRegex, (1, _LDQUO), '"'),
    (smarty.closingDoubleQuotesRegex, (_RDQUO,), '"'),
    (smarty.closingDoubleQuotesRegex2, (_RDQUO,), '"'),
    (smarty.remainingDoubleQuotesRegex, (_LDQUO,), '"'),
    (r"(?<!\.)\.{3}(?!\.)", ("&hellip;",), "..."),
]
# Rules that start with a look-behind and then their trigger: the regex engine has no fast
# search for them and tries the look-behind at every position; trying them only where the
# trigger is finds the same matches (typography's time for the demo week: 4.7 -> 3.6 ms).
# The others search faster than a loop over their triggers would.
_AT_TRIGGER = {
    r"(?<!-)---(?!-)",
    r"(?<!-)--(?!-)",
    smarty.closingSingleQuotesRegex,
    smarty.closingDoubleQuotesRegex2,
    smarty.doubleQuoteSetsRe2,
    smarty.singleQuoteSetsRe2,
    r"(?<!\.)\.{3}(?!\.)",
}
_COMPILED = [(re.compile(pattern), replacement, trigger) for pattern, replacement, trigger in _RULES]
_PLACEHOLDER = re.compile(re.escape(util.INLINE_PLACEHOLDER_PREFIX) + r"([0-9]+)" + util.ETX)
_ENTITIES = ("&mdash;", "&ndash;", "&hellip;", _LSQUO, _RSQUO, _LDQUO, _RDQUO)
_MARKERS = {entity: chr(0xE000 + index) for index, entity in enumerate(_ENTITIES)}  # private use: no text has them
_MARKER_RE = re.compile("[\ue000-\ue0ff]")
MARKER_CHARACTERS = {marker: html.unescape(entity) for entity, marker in _MARKERS.items()}  # for plain text


class _MarkerCheck(Preprocessor):
    """Whether the source holds a marker character already: then entities go the raw-HTML way."""

    def __init__(self, md, typography: _TypographyProcessor):
        super().__init__(md)
        self.typography = typography

    def run(self, lines: list[str]) -> list[str]:
        self.typography.use_markers = not any(_MARKER_RE.search(line) for line in lines)
        return lines


class _MarkerToEntity(Postprocessor):
    def __init__(self, md, typography: _TypographyProcessor):
        super().__init__(md)
        self.typography = typography

    def run(self, text: str) -> str:
        if not self.typography.use_markers:
            return text
        for entity, marker in _MARKERS.items():
            if marker in text:
                text = text.replace(marker, entity)
        return text


class _TypographyProcessor(Treeprocessor):
    use_markers = False  # set for each conversion by _MarkerCheck

    @property
    def characters(self) -> dict[str, str] | None:
        """The private-use characters in the last tree and what they stand for (None: none used)."""
        return MARKER_CHARACTERS if self.use_markers else None

    def run(self, root: Element) -> None:
        self.count = 0  # placeholders in this tree, numbered as smarty numbers its own
        for element in root.iter():
            if element is not root and _has_work(element.text):
                element.text = self.educate(element.text)
            if element is not root and _has_work(element.tail):
                element.tail = self.educate(element.tail)

    def educate(self, text: str) -> str:
        replacements: list[str] = []
        for regex, replacement, trigger in _COMPILED:
            if trigger in text:
                text = self._apply(regex, replacement, trigger, text, replacements)
        if not replacements:
            return text
        first = self.count - len(replacements)

        def restored(found: re.Match) -> str:
            index = int(found.group(1)) - first
            return replacements[index] if 0 <= index < len(replacements) else found.group()

        return _PLACEHOLDER.sub(restored, text)

    def _apply(
        self, regex: re.Pattern, replacement: tuple[int | str, ...], trigger: str, text: str, replacements: list[str]
    ) -> str:
        """Every match of one rule made a placeholder, as smarty's loop does: it searches again
        right after each placeholder, so a match that starts where the last one ended sees the
        placeholder, not the original character, in a look-behind: then search one at a time."""
        matches = _matches(regex, text, trigger)
        if not matches:
            return text
        if "(?<" in regex.pattern and any(a.end() == b.start() for a, b in zip(matches, matches[1:], strict=False)):
            return self._apply_one_at_a_time(regex, replacement, text, replacements)
        pieces, last = [], 0
        for match in matches:
            pieces += [text[last : match.start()], self._placeholder(match, replacement, replacements)]
            last = match.end()
        pieces.append(text[last:])
        return "".join(pieces)

    def _apply_one_at_a_time(self, regex, replacement, text: str, replacements: list[str]) -> str:
        start = 0
        while (match := regex.search(text, start)) is not None:
            placeholder = self._placeholder(match, replacement, replacements)
            text = text[: match.start()] + placeholder + text[match.end() :]
            start = match.start() + len(placeholder)
        return text

    def _placeholder(self, match: re.Match, replacement: tuple[int | str, ...], replacements: list[str]) -> str:
        placeholder = util.INLINE_PLACEHOLDER % f"{self.count:04d}"
        self.count += 1
        replacements.append(self._replacement(match, replacement))
        return placeholder

    def _replacement(self, match: re.Match, replacement: tuple[int | str, ...]) -> str:
        return "".join(match.group(part) if isinstance(part, int) else self._entity(part) for part in replacement)

    def _entity(self, entities: str) -> str:
        if self.use_markers:
            return "".join(_MARKERS[entity] for entity in re.findall(r"&\w+;", entities))
        return self.md.htmlStash.store(entities)


def _matches(regex: re.Pattern, text: str, trigger: str) -> list[re.Match]:
    """list(regex.finditer(text)); for a rule in _AT_TRIGGER, by trying the regex only where its
    trigger is (every match of those starts with it)."""
    if regex.pattern not in _AT_TRIGGER:
        return list(regex.finditer(text))
    matches: list[re.Match] = []
    end = 0
    found = text.find(trigger)
    while found != -1:
        if found >= end and (match := regex.match(text, found)) is not None:
            matches.append(match)
            end = match.end()
        found = text.find(trigger, found + 1)
    return matches


def _has_work(text: str | None) -> bool:
    return (
        bool(text)
        and not isinstance(text, util.AtomicString)
        and ("'" in text or '"' in text or "--" in text or "..." in text)
    )


class Typography(Extension):
    """In place of `smarty` (with its defaults: quotes, dashes, ellipses; no angled quotes)."""

    def extendMarkdown(self, md):  # noqa: N802 (Python-Markdown's name)
        typography = _TypographyProcessor(md)
        md.preprocessors.register(_MarkerCheck(md, typography), "typography_markers", 1)
        md.treeprocessors.register(typography, "typography", 6)  # where smarty runs
        md.postprocessors.register(_MarkerToEntity(md, typography), "typography_entities", 25)
        md.ESCAPED_CHARS.extend(['"', "'"])
