"""A larger fixture week for the quality checks: six long articles dated in one ISO week, each with
several exercises (written inline and taken from the exercise library), plus older articles so the
blog paginates. It stresses what the demo content does not: email size, many blocks, tables, long
links, pagination, an issue note.

The text is written for these tests; it follows docs/authoring.md's format.
"""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta
from pathlib import Path

from pipeline.core.weeks import week_monday

LIBRARY_REFS = ("heel-slides", "side-lying-clam", "diaphragmatic-breathing", "piriformis-stretch")

INLINE_EXERCISES = [
    {
        "name": "the wall press",
        "why": "Pressing gently into a wall teaches your deep tummy muscles to brace without holding your breath.",
        "steps": [
            "Stand facing a wall, an arm's length away, feet hip-width apart.",
            "Place both palms on the wall at shoulder height.",
            "Breathe in and let your ribs widen.",
            "Breathe out, lift your pelvic floor and press your palms into the wall for a slow count of three.",
            "Release the press and the pelvic floor completely before the next breath.",
        ],
        "tips": [
            "Keep your shoulders away from your ears; the effort comes from your middle.",
            "If you notice your tummy doming, press more lightly.",
            "Count out loud: if you can talk, you are still breathing.",
        ],
        "progression": "When ten presses feel steady, step a little further from the wall so "
        "more of your weight leans in.",
        "safety": "Suitable through pregnancy and soon after birth. Stop if you feel "
        "pressure or heaviness low in your pelvis.",
    },
    {
        "name": "the seated march",
        "why": "Lifting one foot at a time while seated trains your pelvis to stay level as your legs move.",
        "steps": [
            "Sit tall on a firm chair with both feet flat and your knees over your ankles.",
            "Breathe in to prepare.",
            "Breathe out, gently lift your pelvic floor and raise one foot a few centimetres.",
            "Lower it with control and swap sides.",
        ],
        "tips": [
            "Only lift as high as you can without leaning back.",
            "Rest your hands on your thighs to feel whether your pelvis tips.",
        ],
        "progression": "Hold each lifted foot for three slow breaths, then add a light ankle "
        "weight if your physiotherapist agrees.",
        "safety": "A good choice when lying down is uncomfortable in later pregnancy. "
        "After a caesarean, wait until sitting up feels easy.",
    },
    {
        "name": "the four-point rock",
        "why": "Rocking on hands and knees takes the weight of your bump off your back "
        "and wakes up the muscles around your hips.",
        "steps": [
            "Kneel on all fours with your hands under your shoulders and knees under your hips.",
            "Breathe in and let your belly relax towards the floor.",
            "Breathe out and rock your hips slowly back towards your heels, only as far as feels easy.",
            "Breathe in as you return to the start.",
        ],
        "tips": [
            "Place a folded towel under your knees if the floor is hard.",
            "Keep your neck long and look at the floor just ahead of your hands.",
            "Move slowly enough that you could stop at any point.",
        ],
        "progression": "Add a pause at the back of the rock and lift your pelvic floor before you return.",
        "safety": "Fine at every stage of pregnancy. Skip it if your wrists are sore and "
        "try it on your forearms instead.",
    },
    {
        "name": "the standing calf raise",
        "why": "Strong calves help your circulation and your balance, both of which change as pregnancy goes on.",
        "steps": [
            "Stand side-on to a worktop and rest one hand on it for balance.",
            "Breathe out and rise slowly onto the balls of both feet.",
            "Pause at the top, then lower your heels over a count of three.",
        ],
        "tips": [
            "Keep your weight over your big toes rather than rolling out.",
            "Stand tall: your bump should not push your hips forward.",
        ],
        "progression": "Once fifteen raises feel easy, do them on one leg at a time, still holding on.",
        "safety": "Hold on to something steady: balance shifts during pregnancy. Stop if "
        "you get a calf cramp and stretch it gently.",
    },
    {
        "name": "the side-lying leg lift",
        "why": "Lying on your side works the outer hip muscles that keep your pelvis "
        "level when you walk and climb stairs.",
        "steps": [
            "Lie on your side with your head on a cushion and your knees bent slightly.",
            "Straighten your top leg in line with your body.",
            "Breathe out and lift the top leg a hand's width, leading with your heel.",
            "Lower it slowly and rest for a breath.",
        ],
        "tips": [
            "Put a pillow between your knees at the start if your pelvis aches.",
            "Keep your top hip stacked over the bottom one; do not roll back.",
        ],
        "progression": "Add a short pause at the top, then a light resistance band above your knees.",
        "safety": "A comfortable position through pregnancy. If you have pelvic girdle "
        "pain, keep the lift very small or leave it out.",
    },
    {
        "name": "the supported squat",
        "why": "Squatting while holding on builds the leg strength you use every time you pick up your baby.",
        "steps": [
            "Stand facing the back of a sturdy chair with your feet a little wider than your hips.",
            "Hold the chair lightly with both hands.",
            "Breathe in as you sit back and down, as if onto a low step.",
            "Breathe out, lift your pelvic floor and push through your heels to stand.",
        ],
        "tips": [
            "Let your knees travel in line with your toes.",
            "Only go as low as you can come back up from smoothly.",
            "Exhale on the effort, every time.",
        ],
        "progression": "Squat a little deeper, then try it without holding on once your balance is steady.",
        "safety": "Keep it shallow if you have pelvic girdle pain. With a prolapse, stop "
        "if you feel heaviness or dragging.",
    },
]

ARTICLES = [
    ("Building a steady core, one breath at a time", ["core", "breathing"]),
    ("Moving well in the last trimester", ["pregnancy", "third trimester"]),
    ("The first six weeks after birth", ["postpartum", "recovery"]),
    ("Strong legs for carrying, lifting and climbing", ["legs", "everyday strength"]),
    ("Looking after your back while you feed", ["posture", "postpartum"]),
    ("Balance, bumps and busy days", ["balance", "pregnancy"]),
]

OLDER_TITLES = [
    "Why rest counts as training",
    "What your physiotherapist looks for",
    "Small habits for a calmer pelvic floor",
    "Walking your way back",
    "Sleep positions that ease aches",
    "When to ask for help",
]

PROSE = [
    "Every body changes in its own way during pregnancy and after birth, and strength work should follow "
    "yours rather than a calendar. The aim is steady progress: a little more control each week, never a "
    "test of how much you can endure.",
    "Your deep abdominal muscles, your pelvic floor and your breathing muscle work as a team. When one of "
    "them is stretched or tired, the others pick up the slack, and that is when aches and leaks tend to "
    "show up. Training them together, gently and often, restores the balance.",
    "Short sessions work best. Five or ten minutes a day, on most days, does more than one long session a "
    "week, and it is far easier to fit around feeds, naps and appointments.",
    "Pay attention to how you feel during the movement and in the hours after it. Heaviness, dragging, "
    "leaking or pain are signals to do less, not to push through. Mild muscle tiredness the next day is "
    "normal; anything sharper deserves a conversation with your physiotherapist.",
    "If you had a caesarean, your scar and the tissues beneath it need time. Most of the movements here "
    "are gentle enough to start early, but let comfort guide you and follow the advice you were given on "
    "the ward.",
]

TABLE = """\
| Week | Sessions | Focus |
|------|----------|-------|
| 1 | 3 short sessions | Breathing and pelvic floor timing |
| 2 | 4 short sessions | Adding the exercises below, one at a time |
| 3 | 5 short sessions | More repetitions, same slow pace |
"""


def _exercise_section(exercise: dict) -> str:
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(exercise["steps"], 1))
    tips = "\n\n".join(f"{n} - {tip}" for n, tip in enumerate(exercise["tips"], 1))
    return (
        f"## Exercise - {exercise['name']}\n\n"
        f"{exercise['why']}\n\n"
        f"### Why it helps\n\n- {exercise['why']}\n- It needs no equipment beyond what you have at home.\n\n"
        f"### How to do it\n\n{steps}\n\n"
        f"### Tips\n\n{tips}\n\n"
        f"### Progression\n\n{exercise['progression']}\n\n"
        f"### Safety\n\n{exercise['safety']}\n"
    )


def _library_fence(ref: str, index: int) -> str:
    return f"```exercise\nref: {ref}\nreps: {8 + index}\nsets: 2\nnote: Take a full breath between repetitions.\n```\n"


def _long_article(index: int, title: str, tags: list[str], day, other_slug: str) -> str:
    inline = [INLINE_EXERCISES[(index + k) % len(INLINE_EXERCISES)] for k in range(3)]
    ref = LIBRARY_REFS[index % len(LIBRARY_REFS)]
    prose = [PROSE[(index + k) % len(PROSE)] for k in range(len(PROSE))]
    body = [
        prose[0],
        prose[1],
        "## Where to begin\n",
        prose[2],
        f"A plan for the next three weeks (see also [the previous article](../articles/{other_slug}.md) and "
        f"the [heel slides card](../exercises/heel-slides.md)):\n",
        TABLE,
        "> Listen to your body first and this plan second.\n",
        "Reference: https://www.example.org/guidance/pregnancy-and-postnatal-physical-activity/"
        "a-long-address-that-should-wrap-rather-than-stretch-the-page\n",
        _exercise_section(inline[0]),
        "## Between the exercises\n",
        prose[3],
        "- Drink some water.\n- Check in with your breathing.\n- Rest as long as you need.\n",
        _library_fence(ref, index),
        _exercise_section(inline[1]),
        "## How it should feel\n",
        prose[4],
        _exercise_section(inline[2]),
        "## Next week\n",
        prose[0],
    ]
    summary = f"{title}: {len(inline) + 1} gentle exercises and a three-week plan."
    front = (
        f"---\ntitle: {json.dumps(title)}\ndate: {day.isoformat()}\nsummary: {json.dumps(summary)}\n"
        f"tags: [{', '.join(tags)}]\nauthor: Quality Fixture\n---\n\n"
    )
    return front + "\n".join(body)


def _short_article(title: str, day) -> str:
    front = (
        f"---\ntitle: {json.dumps(title)}\ndate: {day.isoformat()}\nsummary: "
        f"{json.dumps(PROSE[0][:90])}\ntags: [habits]\n---\n\n"
    )
    return front + "\n\n".join(PROSE[:3]) + "\n"


def _slug(title: str) -> str:
    return "-".join("".join(c for c in title.lower() if c.isalnum() or c == " ").split())


def write_fixture_content(root: Path, week: str) -> list[str]:
    """Add the fixture articles and issue note for `week` under root/content/; returns their slugs."""
    monday = week_monday(week)
    articles = root / "content" / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    slugs = [_slug(title) for title, _ in ARTICLES]
    for index, (title, tags) in enumerate(ARTICLES):
        day = monday + timedelta(days=index % 7)
        text = _long_article(index, title, tags, day, other_slug=slugs[index - 1])
        (articles / f"{slugs[index]}.md").write_text(text, encoding="utf-8")
    for index, title in enumerate(OLDER_TITLES):
        day = monday - timedelta(weeks=index + 1)
        (articles / f"{_slug(title)}.md").write_text(_short_article(title, day), encoding="utf-8")
    issues = root / "content" / "issues"
    issues.mkdir(parents=True, exist_ok=True)
    note = textwrap.dedent(
        f"""\
        ---
        subject: Six ways to feel stronger this week
        order: [{slugs[2]}, {slugs[0]}]
        ---

        This is a bumper issue: six articles, each with a handful of gentle exercises. Pick one or
        two that suit the stage you are at, and save the rest for later.
        """
    )
    (issues / f"{week}.md").write_text(note, encoding="utf-8")
    return slugs
