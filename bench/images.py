"""Picture benchmark: resizing phone photos cold and warm, and the demo email before and after.

    .venv/bin/python bench/images.py                 # 200 photos of 4000x3000 (about 10 min here)
    .venv/bin/python bench/images.py --count 20      # a quick look

It generates `--count` photo-like JPEGs (gradients, shapes and sensor noise, quality 90) in
bench/work/images/, then times, in this process:

- cold: `prepare_pictures` (pipeline/build/images.py, as a build runs it: every core) with an empty
  picture cache - time per picture, and the bytes of the originals against the email copies and
  the blog's largest copies;
- warm: the same again with a new store over the filled cache, as the next build would find it
  (median of 5): the target is under 50 ms for 200 cached pictures;
- rebuild: a full build (newsletter.toml touched, so neither the no-change path nor the quick
  rebuild applies; pages whose key is unchanged are reused) of a project whose one article shows
  every picture, against the same project with the same originals in content/ but no article
  showing them, and against one with no pictures at all, in turn (median of 7 each, CPU and
  wall): what the pictures add to a rebuild once they are cached;
- the demo email (content/, week 2026-W48): HTML plus the pictures it loads, rendered with the
  originals (before this change) and with the resized copies (after).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.build.images import prepare_pictures  # noqa: E402
from pipeline.build.run import build  # noqa: E402
from pipeline.content.assemble import assemble_issues  # noqa: E402
from pipeline.content.load import load_content  # noqa: E402
from pipeline.core.config import load_config  # noqa: E402
from pipeline.deliver.providers import get_provider  # noqa: E402
from pipeline.render.email import render_email  # noqa: E402
from pipeline.tools.images import ImageStore  # noqa: E402

WORK = REPO / "bench" / "work" / "images"
WEEK = "2026-W48"


def photo(number: int, size: tuple[int, int]) -> bytes:
    """A 4000x3000 JPEG that compresses like a phone photo (smooth areas, edges, sensor noise)."""
    width, height = size
    base = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (base, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT), base.rotate(180)))
    draw = ImageDraw.Draw(image)
    for index in range(12):
        x, y = (number * 97 + index * 331) % width, (number * 53 + index * 211) % height
        colour = ((number * 40 + index * 70) % 256, (index * 90) % 256, (number * 15) % 256)
        draw.ellipse([x, y, x + width // 6, y + height // 5], fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(2))
    noise = Image.effect_noise((width, height), 20).convert("RGB")
    image = Image.blend(image, noise, 0.06)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=90)
    return output.getvalue()


def make_project(root: Path, count: int, with_pictures: bool) -> Path:
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "newsletter.toml", root / "newsletter.toml")
    lines = [f"![Photo number {n}](../images/bench/photo-{n:03}.jpg)" for n in range(count)] if with_pictures else []
    (root / "content/articles/bench-pictures.md").write_text(
        "---\ntitle: Many pictures\ndate: 2026-11-02\nsummary: A benchmark article.\nnewsletter: false\n---\n\n"
        + "Pictures.\n\n"
        + "\n\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    return root


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure_resizing(count: int) -> dict:
    project = make_project(WORK / "project", count, with_pictures=True)
    photos = project / "content/images/bench"
    photos.mkdir(parents=True)
    print(f"generating {count} photos of 4000x3000 ...", flush=True)
    for number in range(count):
        (photos / f"photo-{number:03}.jpg").write_bytes(photo(number, (4000, 3000)))
    config = load_config(project)
    content = load_content(config)
    store_folder = WORK / "store"
    shutil.rmtree(store_folder, ignore_errors=True)
    print("cold ...", flush=True)
    started, cpu = time.perf_counter(), cpu_seconds()
    prepared = prepare_pictures(config, content, ImageStore(store_folder))
    cold, cold_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    bench = {path: picture for path, picture in prepared.pictures.items() if path.startswith("images/bench/")}
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        prepare_pictures(config, content, ImageStore(store_folder))
        warm.append(time.perf_counter() - started)
    return {
        "count": count,
        "cold_s": cold,
        "cold_cpu_s": cold_cpu,
        "cold_ms_per_picture": cold / count * 1000,
        "cold_cpu_ms_per_picture": cold_cpu / count * 1000,
        "warm_ms": statistics.median(warm) * 1000,
        "warm_ms_all": [w * 1000 for w in warm],
        "original_bytes": sum(p.source_bytes for p in bench.values()),
        "email_bytes": sum(p.email.size for p in bench.values()),
        "blog_largest_webp_bytes": sum(p.blog[-1].size for p in bench.values()),
        "store_folder": str(store_folder),
    }


def measure_full_builds(count: int, store_folder: Path, rounds: int = 7) -> dict:
    with_pictures = WORK / "project"
    without = make_project(WORK / "project-without", count, with_pictures=False)
    bare = make_project(WORK / "project-bare", count, with_pictures=False)
    # The same originals under content/ (the blog copies them either way), shown by no article.
    shutil.copytree(with_pictures / "content/images/bench", without / "content/images/bench", copy_function=os.link)
    projects = {"with": with_pictures, "without": without, "bare": bare}
    # Each project reads the picture cache the resizing run filled.
    for root in projects.values():
        cache = root / ".newsletter/cache/images"
        cache.parent.mkdir(parents=True, exist_ok=True)
        if not cache.exists():
            shutil.copytree(store_folder, cache)
    wall: dict[str, list[float]] = {name: [] for name in projects}
    cpu: dict[str, list[float]] = {name: [] for name in projects}
    for root in projects.values():  # two untimed builds each: dist/ and compiled templates in place
        for _ in range(2):
            os.utime(root / "newsletter.toml")
            config = load_config(root)
            build(config, WEEK, get_provider(config))
    for _ in range(rounds):
        for name, root in projects.items():
            os.utime(root / "newsletter.toml")  # a settings file saved: the full build runs
            config = load_config(root)
            started, started_cpu = time.perf_counter(), cpu_seconds()
            build(config, WEEK, get_provider(config))
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(cpu_seconds() - started_cpu)
    figures = {"rounds": rounds, "all_wall": wall, "all_cpu": cpu}
    for name in projects:
        figures[f"{name}_ms"] = statistics.median(wall[name]) * 1000
        figures[f"{name}_cpu_ms"] = statistics.median(cpu[name]) * 1000
    for unit in ("ms", "cpu_ms"):
        figures[f"added_{unit}"] = figures[f"with_{unit}"] - figures[f"without_{unit}"]
        figures[f"added_to_bare_{unit}"] = figures[f"with_{unit}"] - figures[f"bare_{unit}"]
    return figures


def measure_demo_email() -> dict:
    config = load_config(REPO)
    content = load_content(config)
    provider = get_provider(config)
    store = ImageStore(WORK / "demo-store")
    prepared = prepare_pictures(config, content, store)
    result = {}
    for label, pictures in (("before", None), ("after", prepared.pictures)):
        issues = assemble_issues(content, config, WEEK)
        emails = [render_email(issue, config, provider.unsubscribe_url(), pictures) for issue in issues]
        general = next(e for e in emails if e.issue.stage in (None, "general"))
        html = len(general.html.encode())
        if pictures is None:  # the originals, linked as they were
            linked = sum(
                (config.content_dir / path).stat().st_size for path in prepared.pictures if f"/{path}" in general.html
            )
        else:
            linked = general.image_bytes
        result[label] = {"html_kb": html / 1024, "pictures_kb": linked / 1024, "total_kb": (html + linked) / 1024}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--output", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    figures = {"resizing": measure_resizing(args.count)}
    figures["full_build"] = measure_full_builds(args.count, Path(figures["resizing"]["store_folder"]))
    figures["demo_email"] = measure_demo_email()
    r, b, d = figures["resizing"], figures["full_build"], figures["demo_email"]
    print(f"\n{r['count']} photos of 4000x3000, {r['original_bytes'] / 1e6:.0f} MB:")
    print(
        f"  cold: {r['cold_s']:.1f} s wall ({r['cold_ms_per_picture']:.0f} ms a picture), "
        f"{r['cold_cpu_s']:.1f} s CPU ({r['cold_cpu_ms_per_picture']:.0f} ms a picture)"
    )
    print(f"  warm: {r['warm_ms']:.1f} ms for all {r['count']} (median of 5; target < 50 ms)")
    print(
        f"  bytes: originals {r['original_bytes'] / 1e6:.1f} MB -> email copies {r['email_bytes'] / 1e6:.1f} MB "
        f"({100 - 100 * r['email_bytes'] / r['original_bytes']:.0f}% saved, also the blog's JPEG fallback); "
        f"blog's largest WebP {r['blog_largest_webp_bytes'] / 1e6:.1f} MB"
    )
    print(f"  rebuild (full build, pictures cached; median of {b['rounds']}, CPU of this process and its workers):")
    for name, label in (
        ("with", f"an article shows the {r['count']} pictures"),
        ("without", "the same originals in content/, shown by no article"),
        ("bare", "no pictures at all"),
    ):
        print(f"    {label}: {b[f'{name}_cpu_ms']:.0f} ms CPU, {b[f'{name}_ms']:.0f} ms wall")
    print(
        f"    the pictures shown add {b['added_cpu_ms']:+.0f} ms CPU, {b['added_ms']:+.0f} ms wall (target < 50 ms); "
        f"against no pictures at all {b['added_to_bare_cpu_ms']:+.0f} ms CPU, {b['added_to_bare_ms']:+.0f} ms wall"
    )
    print(f"    load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("demo email (2026-W48, general version):")
    for label in ("before", "after"):
        e = d[label]
        print(f"  {label}: {e['html_kb']:.1f} KB HTML + {e['pictures_kb']:.1f} KB pictures = {e['total_kb']:.1f} KB")
    if args.output:
        args.output.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
