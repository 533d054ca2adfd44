"""Deterministic benchmark corpora: the same N articles for newsletter, Pelican and Hugo.

`make_corpus(n)` builds the articles as data (seeded, no I/O); `ensure_corpus(n, root)` lays
them out as three projects under root: `ours/`, `pelican/` and `hugo/`. Each project holds the
same words, headings, lists, images, links and tags, so each tool builds the same set of pages
(articles, exercise cards, paginated index, tag pages, feed).

Run alone: `python bench/corpus.py 1000 /tmp/corpus` (prints word counts).
"""

from __future__ import annotations

import hashlib
import random
import shutil
import struct
import sys
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

CORPUS_VERSION = 2  # recorded with the results; any edit of this file also regenerates corpora
SEED = 20261123
BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
ISSUE_WEEK = "2026-W48"
ISSUE_MONDAY = date(2026, 11, 23)
ARTICLES_IN_ISSUE_WEEK = 5
PER_PAGE = 10
FEED_ITEMS = 20
# newsletter's blog lists every article of a tag on one page; the others are set to match.
TAG_PAGES_PAGINATED = False
IMAGE_COUNT = 8
SITE_URL = "https://strongfromwithin.example"

TAGS = [
    "pelvic floor",
    "core",
    "glutes",
    "breathing",
    "posture",
    "diastasis",
    "first trimester",
    "second trimester",
    "third trimester",
    "fourth trimester",
    "c-section recovery",
    "sleep",
    "back pain",
    "hips",
    "mobility",
    "strength",
    "walking",
    "running return",
    "pilates",
    "yoga",
    "stretching",
    "nutrition",
    "hydration",
    "mindset",
    "rest",
    "lifting",
    "babywearing",
    "feeding",
    "pelvic girdle pain",
    "recovery",
]

EXERCISE_NAMES = [
    "Glute Bridge",
    "Clamshell",
    "Bird Dog",
    "Side Plank on Knees",
    "Heel Slide",
    "Dead Bug",
    "Wall Sit",
    "Cat Cow",
    "Pelvic Tilt",
    "Box Squat",
    "Split Squat",
    "Standing Hip Hinge",
    "Band Pull Apart",
    "Supported Row",
    "Calf Raise",
    "Side Lying Leg Lift",
    "Quadruped Rock",
    "Wall Press",
    "Step Up",
    "Hip Flexor Stretch",
]
PREGNANCY = ["safe", "safe", "modify", "safe", "avoid"]
EQUIPMENT = [[], ["mat"], ["resistance band"], ["chair"], ["mat", "cushion"], ["light dumbbells"]]

WORDS = """
muscle muscles pelvic floor core breath breathing exhale inhale ribs spine hips glutes bottom
posture gentle slow steady strength strong control tension relax release squeeze lift lower hold
pause repeat stage pregnancy postpartum birth recovery weeks months body belly back knees feet heels
toes shoulders neck chest arms legs thighs hamstrings quads piriformis balance load tired energy
sleep baby toddler pram carry stand sit kneel floor mat chair wall daily habit routine minutes rest
notice feel gripping clenching working support joints pressure ease pain comfort movement moving
walking stairs squat bridge hinge reach rotate side front deep light heavy progress progression safe
safely careful doctor physio midwife check advice listen signs stop gradually simple small short
long evening morning kitchen pushchair laundry shopping don't it's you're can't baby's won't that's
you'll isn't
""".split()
TITLE_WORDS = """
gentle strong steady simple better calm deep quiet everyday small honest practical kind glutes core
breath posture hips back floor balance recovery strength routine mornings habits walking stairs
lifting carrying sleep rest comfort
""".split()


@dataclass
class Card:
    slug: str
    name: str
    pregnancy: str
    equipment: list[str]
    sections: dict[str, object]  # title -> paragraph text or list of steps


@dataclass
class ArticleData:
    index: int
    slug: str
    title: str
    published: datetime
    summary: str
    tags: list[str]
    author: str
    image: str
    image_alt: str
    intro: list[str]
    sections: list[tuple[str, list[object]]]  # heading -> paragraphs (str) and lists (tuple)
    links: list[int]  # indexes of linked articles
    inline_exercise: Card | None = None
    library_ref: str | None = None
    library_reps: int | None = None
    library_sets: int | None = None


@dataclass
class Corpus:
    size: int
    articles: list[ArticleData]
    cards: list[Card]
    images: dict[str, bytes] = field(default_factory=dict)


# ---- text ---------------------------------------------------------------------------------


def sentence(rng: random.Random, low: int = 8, high: int = 18) -> str:
    """Words with the punctuation of real prose: apostrophes (in WORDS), now and then a dash, a
    comma or a quoted phrase - what typographic processing (smart quotes) has to work on."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    mark = rng.randrange(1, len(words))
    aside = rng.random()
    if aside < 0.15:
        words[mark - 1] += " --"
    elif aside < 0.25:
        words[mark - 1] = f'"{words[mark - 1]}"'
    elif aside < 0.5:
        words[mark - 1] += ","
    return " ".join(words).capitalize() + rng.choice([".", ".", ".", "?", "!"])


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def title_text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(TITLE_WORDS) for _ in range(words)).capitalize()


def word_count(text: str) -> int:
    return len(text.split())


# ---- the data -----------------------------------------------------------------------------


def make_card(rng: random.Random, name: str, index: int) -> Card:
    return Card(
        slug=name.lower().replace(" ", "-"),
        name=name,
        pregnancy=PREGNANCY[index % len(PREGNANCY)],
        equipment=EQUIPMENT[index % len(EQUIPMENT)],
        sections={
            "Why it works": paragraph(rng, 3),
            "How to do it": [sentence(rng, 6, 12) for _ in range(4)],
            "Top tips": [sentence(rng, 6, 12) for _ in range(3)],
            "Progression": paragraph(rng, 2),
            "Safety": paragraph(rng, 2),
        },
    )


def publication_time(rng: random.Random, index: int) -> datetime:
    if index < ARTICLES_IN_ISSUE_WEEK:  # the newest few land in the issue week
        day = ISSUE_MONDAY + timedelta(days=index)
    else:
        day = date(2019, 1, 7) + timedelta(days=rng.randrange((date(2026, 11, 20) - date(2019, 1, 7)).days))
    return datetime(day.year, day.month, day.day, 6 + index % 12, (index * 7) % 60)


def make_article(index: int, size: int, cards: list[Card]) -> ArticleData:
    rng = random.Random(SEED * 1_000_003 + index)
    title = title_text(rng, rng.randint(3, 6))
    slug = "-".join(title.lower().split()[:4]) + f"-{index:05d}"
    sections = []
    for number in range(5):
        body: list[object] = [
            paragraph(rng, rng.randint(3, 5)),
            paragraph(rng, rng.randint(2, 4)),
            paragraph(rng, rng.randint(1, 3)),
        ]
        if number == 1:
            body.insert(1, ("ul", [sentence(rng, 4, 9) for _ in range(4)]))
        if number == 2:
            body.insert(1, ("ol", [sentence(rng, 4, 9) for _ in range(3)]))
        sections.append((title_text(rng, rng.randint(2, 4)), body))
    article = ArticleData(
        index=index,
        slug=slug,
        title=title,
        published=publication_time(rng, index),
        summary=sentence(rng, 12, 20),
        tags=sorted(rng.sample(TAGS, rng.randint(2, 4))),
        author=rng.choice(["Jo Harper", "Sam Okafor", "Priya Shah"]),
        image=f"photo-{index % IMAGE_COUNT}.png",
        image_alt=sentence(rng, 4, 8).rstrip(".?!"),
        intro=[paragraph(rng, 4), paragraph(rng, 3)],
        sections=sections,
        links=[rng.randrange(size) for _ in range(2)],
    )
    if index % 3 == 0:
        if index % 6 == 0:
            article.inline_exercise = make_card(rng, rng.choice(EXERCISE_NAMES) + " Variation", index)
        else:
            article.library_ref = cards[index % len(cards)].slug
            article.library_reps, article.library_sets = 8 + index % 5, 2 + index % 2
    return article


def make_corpus(size: int) -> Corpus:
    card_rng = random.Random(SEED)
    cards = [make_card(card_rng, name, i) for i, name in enumerate(EXERCISE_NAMES)]
    articles = [make_article(i, size, cards) for i in range(size)]
    images = {f"photo-{i}.png": png_image(96, 64, i) for i in range(IMAGE_COUNT)}
    return Corpus(size=size, articles=articles, cards=cards, images=images)


def png_image(width: int, height: int, variant: int) -> bytes:
    """A small valid RGB gradient PNG, written with zlib so no imaging library is needed."""
    red, green, blue = (variant * 53) % 256, (variant * 97) % 256, (variant * 151) % 256
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in ((red + x) % 256, (green + y * 2) % 256, blue))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


# ---- Markdown shared by the three formats -------------------------------------------------


def markdown_block(item: object) -> str:
    if isinstance(item, tuple):
        kind, entries = item
        if kind == "ul":
            return "\n".join(f"- {entry}" for entry in entries)
        return "\n".join(f"{number}. {entry}" for number, entry in enumerate(entries, 1))
    return str(item)


def card_sections_markdown(card: Card) -> str:
    """The ### sections of an exercise, shared by inline blocks and library cards."""
    parts = []
    for title, value in card.sections.items():
        parts.append(f"### {title}")
        parts.append(markdown_block(("ol", value)) if isinstance(value, list) else value)
    return "\n\n".join(parts)


def article_body(article: ArticleData, corpus: Corpus, link, image_src, library_block) -> str:
    """The article's Markdown; `link(slug)`, `image_src(name)` and `library_block(article)` give
    each tool's own spelling of links, images and library exercise references."""
    targets = [corpus.articles[i] for i in article.links]
    blocks = [article.intro[0], f"![{article.image_alt}]({image_src(article.image)})", article.intro[1]]
    for number, (heading, body) in enumerate(article.sections):
        blocks.append(f"## {heading}")
        blocks.extend(markdown_block(item) for item in body)
        if number == 0:
            blocks.append(
                f"If this sounds familiar, read [{targets[0].title}]({link(targets[0].slug)}) and "
                f"[{targets[1].title}]({link(targets[1].slug)}), or see the "
                "[NHS pregnancy exercise guidance](https://www.nhs.uk/pregnancy/keeping-well/exercise/)."
            )
        if number == 1 and article.inline_exercise:
            blocks.append(f"## Exercise - {article.inline_exercise.name}")
            blocks.append(card_sections_markdown(article.inline_exercise))
        if number == 1 and article.library_ref:
            blocks.append(library_block(article))
    return "\n\n".join(blocks) + "\n"


def yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def yaml_list(values: list[str]) -> str:
    return "[" + ", ".join(yaml_string(v) for v in values) + "]"


def card_by_slug(corpus: Corpus, slug: str) -> Card:
    return next(card for card in corpus.cards if card.slug == slug)


# ---- ours ---------------------------------------------------------------------------------


def ours_article(article: ArticleData, corpus: Corpus) -> str:
    def library_block(a: ArticleData) -> str:
        return f"```exercise\nref: {a.library_ref}\nreps: {a.library_reps}\nsets: {a.library_sets}\n```"

    front = [
        "---",
        f"title: {yaml_string(article.title)}",
        f"date: {article.published.date().isoformat()}",
        f"summary: {yaml_string(article.summary)}",
        f"tags: {yaml_list(article.tags)}",
        f"author: {yaml_string(article.author)}",
        f"image: ../images/{article.image}",
        f"image_alt: {yaml_string(article.image_alt)}",
        "---",
        "",
    ]
    body = article_body(article, corpus, lambda slug: f"{slug}.md", lambda name: f"../images/{name}", library_block)
    return "\n".join(front) + body


def ours_card(card: Card) -> str:
    front = [
        "---",
        f"name: {yaml_string(card.name)}",
        f"pregnancy: {card.pregnancy}",
        f"equipment: {yaml_list(card.equipment)}",
        "---",
        "",
    ]
    return "\n".join(front) + card_sections_markdown(card) + "\n"


def ours_issue_note() -> str:
    return (
        '---\nsubject: "This week: five small habits for a stronger core"\n---\n\n'
        "Hello! This week we look at gentle strength you can fit around a newborn.\n"
    )


def write_ours(corpus: Corpus, root: Path) -> None:
    content = root / "content"
    for article in corpus.articles:
        write(content / "articles" / f"{article.slug}.md", ours_article(article, corpus))
    for card in corpus.cards:
        write(content / "exercises" / f"{card.slug}.md", ours_card(card))
    write(content / "issues" / f"{ISSUE_WEEK}.md", ours_issue_note())
    for name, data in corpus.images.items():
        write_bytes(content / "images" / name, data)
    refresh_project_files(root)


# ---- Pelican ------------------------------------------------------------------------------

PELICAN_CONF = f'''# Generated by bench/corpus.py: the default theme, the same pages as the other tools.
AUTHOR = "The Strong From Within team"
SITENAME = "Strong From Within"
SITEURL = "{SITE_URL}"
PATH = "content"
TIMEZONE = "Europe/London"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%d %B %Y"
DEFAULT_PAGINATION = {PER_PAGE}
STATIC_PATHS = ["images"]
ARTICLE_PATHS = ["articles"]
PAGE_PATHS = ["exercises"]
USE_FOLDER_AS_CATEGORY = False
DEFAULT_CATEGORY = "articles"
ARTICLE_URL = "articles/{{slug}}/"
ARTICLE_SAVE_AS = "articles/{{slug}}/index.html"
PAGE_URL = "exercises/{{slug}}/"
PAGE_SAVE_AS = "exercises/{{slug}}/index.html"
TAG_URL = "tags/{{slug}}/"
TAG_SAVE_AS = "tags/{{slug}}/index.html"
TAGS_URL = "tags/"
TAGS_SAVE_AS = "tags/index.html"
PAGINATION_PATTERNS = (
    (1, "{{url}}", "{{save_as}}"),
    (2, "{{base_name}}/page/{{number}}/", "{{base_name}}/page/{{number}}/index.html"),
)
# the theme needs a page object
PAGINATED_TEMPLATES = {{"index": None, "tag": {"None" if TAG_PAGES_PAGINATED else "1_000_000"}}}
DISPLAY_PAGES_ON_MENU = False
# Pages the other tools do not build are switched off.
DIRECT_TEMPLATES = ["index", "tags"]
CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
# One site-wide Atom feed of the latest articles, full content.
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feed.xml"
FEED_MAX_ITEMS = {FEED_ITEMS}
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
# Pelican's own incremental mode, so its rebuilds are as fast as it can make them.
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
'''


def pelican_metadata(fields: list[tuple[str, str]]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in fields) + "\n\n"


def pelican_article(article: ArticleData, corpus: Corpus) -> str:
    def library_block(a: ArticleData) -> str:  # no library mechanism: the card's text inline
        card = card_by_slug(corpus, a.library_ref)
        return (
            f"## Exercise - {card.name}\n\n*{a.library_reps} reps, {a.library_sets} sets*\n\n"
            + card_sections_markdown(card)
        )

    meta = pelican_metadata(
        [
            ("Title", article.title),
            ("Date", article.published.strftime("%Y-%m-%d %H:%M")),
            ("Slug", article.slug),
            ("Category", "articles"),
            ("Summary", article.summary),
            ("Tags", ", ".join(article.tags)),
            ("Author", article.author),
            ("Image", f"{{static}}/images/{article.image}"),
            ("Image_alt", article.image_alt),
        ]
    )
    body = article_body(
        article,
        corpus,
        lambda slug: f"{{filename}}/articles/{slug}.md",
        lambda name: f"{{static}}/images/{name}",
        library_block,
    )
    return meta + body


def pelican_card(card: Card) -> str:
    meta = pelican_metadata(
        [
            ("Title", card.name),
            ("Slug", card.slug),
            ("Pregnancy", card.pregnancy),
            ("Equipment", ", ".join(card.equipment) or "none"),
        ]
    )
    return meta + card_sections_markdown(card) + "\n"


def write_pelican(corpus: Corpus, root: Path) -> None:
    content = root / "content"
    for article in corpus.articles:
        write(content / "articles" / f"{article.slug}.md", pelican_article(article, corpus))
    for card in corpus.cards:
        write(content / "exercises" / f"{card.slug}.md", pelican_card(card))
    for name, data in corpus.images.items():
        write_bytes(content / "images" / name, data)
    write(root / "pelicanconf.py", PELICAN_CONF)


# ---- Hugo ---------------------------------------------------------------------------------


def hugo_config() -> str:
    return f'''# Generated by bench/corpus.py: bench/hugo_theme, the same pages as the other tools.
baseURL = "{SITE_URL}/"
title = "Strong From Within"
languageCode = "en"
themesDir = "{BENCH_DIR}"
theme = "hugo_theme"
paginate = {PER_PAGE}
paginatePath = "page"
buildFuture = true
enableRobotsTXT = true
rssLimit = {FEED_ITEMS}

[params]
paginateTags = {str(TAG_PAGES_PAGINATED).lower()}
author = "The Strong From Within team"
description = "Gentle, evidence-based strength for pregnancy and the postpartum years."

[taxonomies]
tag = "tags"

[permalinks]
articles = "/articles/:filename/"
exercises = "/exercises/:filename/"

[outputs]
home = ["HTML", "RSS"]
page = ["HTML"]
section = ["HTML"]
taxonomy = ["HTML"]
term = ["HTML"]
'''


def hugo_article(article: ArticleData, corpus: Corpus) -> str:
    def library_block(a: ArticleData) -> str:
        card = card_by_slug(corpus, a.library_ref)
        return (
            f"## Exercise - {card.name}\n\n*{a.library_reps} reps, {a.library_sets} sets*\n\n"
            + card_sections_markdown(card)
        )

    front = [
        "---",
        f"title: {yaml_string(article.title)}",
        f"date: {article.published.isoformat()}Z",
        f"summary: {yaml_string(article.summary)}",
        f"tags: {yaml_list(article.tags)}",
        f"author: {yaml_string(article.author)}",
        f"image: /images/{article.image}",
        f"image_alt: {yaml_string(article.image_alt)}",
        "---",
        "",
    ]
    body = article_body(
        article,
        corpus,
        lambda slug: f'{{{{< relref "/articles/{slug}.md" >}}}}',
        lambda name: f"/images/{name}",
        library_block,
    )
    return "\n".join(front) + body


def hugo_card(card: Card) -> str:
    front = [
        "---",
        f"title: {yaml_string(card.name)}",
        f"pregnancy: {card.pregnancy}",
        f"equipment: {yaml_list(card.equipment)}",
        "---",
        "",
    ]
    return "\n".join(front) + card_sections_markdown(card) + "\n"


def write_hugo(corpus: Corpus, root: Path) -> None:
    content = root / "content"
    for article in corpus.articles:
        write(content / "articles" / f"{article.slug}.md", hugo_article(article, corpus))
    for card in corpus.cards:
        write(content / "exercises" / f"{card.slug}.md", hugo_card(card))
    for name, data in corpus.images.items():
        write_bytes(root / "static" / "images" / name, data)
    # The exercise library has an index page, as in newsletter's blog; the articles have none.
    write(content / "exercises" / "_index.md", '---\ntitle: "Exercise library"\n---\n')
    write(content / "articles" / "_index.md", "---\n_build:\n  render: never\n---\n")
    write(root / "config.toml", hugo_config())


# ---- files --------------------------------------------------------------------------------

WRITERS = {"ours": write_ours, "pelican": write_pelican, "hugo": write_hugo}


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def generator_digest() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def ensure_corpus(size: int, root: Path, log=print) -> Path:
    """Write the three projects for `size` articles under root, unless this generator already did.

    The repo's templates/ and newsletter.toml are copied afresh every time, since they change
    while the corpus does not."""
    stamp = root / "CORPUS"
    wanted = f"v{CORPUS_VERSION}-seed{SEED}-n{size} {generator_digest()}"
    if not (stamp.exists() and stamp.read_text().strip() == wanted):
        log(f"generating corpus of {size} articles in {root} ...")
        if root.exists():
            shutil.rmtree(root)
        corpus = make_corpus(size)
        for name, writer in WRITERS.items():
            writer(corpus, root / name)
        stamp.write_text(wanted + "\n")
    refresh_project_files(root / "ours")
    return root


def refresh_project_files(project: Path) -> None:
    shutil.copy(REPO / "newsletter.toml", project / "newsletter.toml")
    if (project / "templates").exists():
        shutil.rmtree(project / "templates")
    shutil.copytree(REPO / "templates", project / "templates")


def article_file_name(size: int, index: int) -> str:
    """The file name of article `index` in a corpus of `size`, without generating the rest."""
    cards = [make_card(random.Random(SEED), name, i) for i, name in enumerate(EXERCISE_NAMES)]
    return f"{make_article(index, size, cards).slug}.md"


def corpus_stats(corpus: Corpus) -> dict:
    words = [word_count(ours_article(a, corpus).split("---", 2)[2]) for a in corpus.articles]
    return {
        "articles": len(corpus.articles),
        "cards": len(corpus.cards),
        "tags": len({t for a in corpus.articles for t in a.tags}),
        "words_mean": round(sum(words) / len(words)),
        "words_min": min(words),
        "words_max": max(words),
        "inline_exercises": sum(1 for a in corpus.articles if a.inline_exercise),
        "library_refs": sum(1 for a in corpus.articles if a.library_ref),
        "in_issue_week": sum(1 for a in corpus.articles if a.published.date() >= ISSUE_MONDAY),
    }


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(corpus_stats(make_corpus(size)))
    if len(sys.argv) > 2:
        print(ensure_corpus(size, Path(sys.argv[2])))
