"""Thumbnails: time and peak memory of chalicelib.images.process against two baselines.

Makes photo-like inputs in memory (gradients, shapes, texture and sensor grain; JPEGs at quality
90 with EXIF, the 12 MP one with orientation 6 as a phone shot held upright; an RGBA PNG; a HEIC
when pillow-heif can encode one), then measures each (input, implementation) pair in a fresh
subprocess: median wall time over N runs after one warm-up run, and the child's peak RSS
(getrusage ru_maxrss, whole process: interpreter, imports and all).

Implementations:
  project  chalicelib.images.process: draft() + cascade + JPEG + blurhash
  naive    Pillow: open -> exif_transpose -> three LANCZOS resizes from the full image -> JPEG
  pyvips   libvips thumbnail cascade (large from the file with shrink-on-load, small from large,
           thumb from small) -> JPEG; skipped with a note when pyvips/libvips is not importable.
           No blurhash (project does one, ~3 ms). libvips may use more than one thread.

    .venv/bin/python bench/thumbnails.py [--runs 7]

Targets (issue): >= 3.5x faster than naive and within 1.1x of pyvips on the 12 MP JPEG;
peak RSS <= 64 MiB. Prints a table, asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPLS = ("project", "naive", "pyvips")
TARGET_SPEEDUP, TARGET_VIPS_RATIO, TARGET_RSS_MIB = 3.5, 1.1, 64


# ---------------------------------------------------------------- inputs (parent process only)


def photo(width: int, height: int, seed: int):
    """An RGB image with photo-like statistics: smooth colour fields, hard-edged shapes,
    mid-frequency texture and per-pixel grain (so JPEG files come out at realistic sizes)."""
    from PIL import Image, ImageChops, ImageDraw

    rnd = random.Random(seed)
    field = Image.new("RGB", (4, 3))
    field.putdata([tuple(rnd.randrange(256) for _ in range(3)) for _ in range(12)])
    img = field.resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x0, y0 = rnd.randrange(width), rnd.randrange(height)
        x1, y1 = x0 + rnd.randrange(width // 3), y0 + rnd.randrange(height // 3)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    texture = Image.effect_noise((width // 8, height // 8), 40).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    grain = Image.effect_noise((width, height), 10)
    noise = ImageChops.add(texture, grain, scale=2.0, offset=-64)
    return ImageChops.add(img, Image.merge("RGB", (noise, noise, noise)), offset=-64)


def camera_exif(orientation: int) -> bytes:
    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Echomate"
    exif[ExifTags.Base.Model] = "Bench Camera"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 12.5)
    return exif.tobytes()


def make_inputs(directory: Path) -> tuple[list[tuple[str, Path]], list[str]]:
    from PIL import Image

    cases: list[tuple[str, Path]] = []
    notes: list[str] = []

    def save(name: str, filename: str, img, fmt: str, **options) -> None:
        buf = io.BytesIO()
        img.save(buf, fmt, **options)
        path = directory / filename
        path.write_bytes(buf.getvalue())
        cases.append((name, path))

    img = photo(4000, 3000, seed=12)
    save("JPEG 12 MP 4000x3000 o6", "p12.jpg", img, "JPEG", quality=90, exif=camera_exif(6))
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        # tiled 512x512 like an iPhone's HEIC; x265's ultrafast preset: 5 s instead of 45 s here
        options = {"quality": 60, "tile_size": 512, "enc_params": {"preset": "ultrafast"}}
        save("HEIC 12 MP 4000x3000", "p12.heic", img, "HEIF", **options)
    except (ImportError, ValueError, OSError, RuntimeError, KeyError) as exc:
        notes.append(f"HEIC input skipped: pillow-heif cannot encode here ({exc})")

    save(
        "JPEG 12 MP progressive",
        "p12p.jpg",
        img,
        "JPEG",
        quality=90,
        progressive=True,
        exif=camera_exif(1),
    )
    img.close()

    img = photo(6000, 4000, seed=24)
    save("JPEG 24 MP 6000x4000", "p24.jpg", img, "JPEG", quality=90, exif=camera_exif(1))
    img.close()

    img = photo(2000, 1500, seed=3).convert("RGBA")
    alpha = Image.linear_gradient("L").resize(img.size)
    img.putalpha(alpha)
    save("PNG RGBA 2000x1500", "a3.png", img, "PNG")
    img.close()
    return cases, notes


# ---------------------------------------------------------------- implementations (child process)


def run_project(data: bytes) -> list[tuple[int, int]]:
    from chalicelib import images

    result = images.process(data)
    return [(r.width, r.height) for r in result.renditions.values()]


def run_naive(data: bytes) -> list[tuple[int, int]]:
    from PIL import Image, ImageOps

    img = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    if img.mode != "RGB":
        img = img.convert("RGB")
    w, h = img.size
    m = min(w, h)
    crop = ((w - m) // 2, (h - m) // 2, (w + m) // 2, (h + m) // 2)
    jobs = [(fit(w, h, 1080), None), (fit(w, h, 640), None), ((min(320, m),) * 2, crop)]
    sizes = []
    for size, box in jobs:
        out = img.resize(size, Image.Resampling.LANCZOS, box=box)
        out.save(io.BytesIO(), "JPEG", quality=82)
        sizes.append(out.size)
    return sizes


def run_pyvips(data: bytes) -> list[tuple[int, int]]:
    import pyvips

    def jpeg(image) -> bytes:
        if image.hasalpha():
            image = image.flatten(background=[255] * (image.bands - 1))
        return image.jpegsave_buffer(Q=82, strip=True)

    large = pyvips.Image.thumbnail_buffer(data, 1080, height=1080, size="down").copy_memory()
    jpeg(large)
    small = large.thumbnail_image(640, height=640, size="down").copy_memory()
    jpeg(small)
    thumb = small.thumbnail_image(320, height=320, size="down", crop="centre")
    jpeg(thumb)
    return [(i.width, i.height) for i in (large, small, thumb)]


def fit(w: int, h: int, box: int) -> tuple[int, int]:
    if w <= box and h <= box:
        return w, h
    scale = box / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def child(impl: str, path: str, runs: int) -> None:
    import resource
    import statistics

    sys.path.insert(0, str(ROOT))
    if impl == "pyvips":
        import pyvips

        pyvips.cache_set_max(0)  # no operation cache: every run decodes again
    elif impl == "naive" and path.endswith(".heic"):
        import pillow_heif

        pillow_heif.register_heif_opener()
    func = {"project": run_project, "naive": run_naive, "pyvips": run_pyvips}[impl]
    data = Path(path).read_bytes()
    sizes = func(data)  # warm-up: imports, first-call costs
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func(data)
        times.append((time.perf_counter() - start) * 1000)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"ms": statistics.median(times), "rss": peak_mib, "sizes": sizes}))


# ---------------------------------------------------------------- driver


def measure(impl: str, path: Path, runs: int) -> dict | str:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", impl, str(path), "--runs", str(runs)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return last[:60]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def pyvips_available() -> str | None:
    probe = subprocess.run(
        [sys.executable, "-c", "import pyvips; print(*(pyvips.version(i) for i in range(3)))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.stdout.strip().replace(" ", ".") if probe.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--make", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.runs)
        return
    if args.make:
        cases, notes = make_inputs(Path(args.make))
        print(json.dumps({"cases": [(n, str(p)) for n, p in cases], "notes": notes}))
        return

    vips = pyvips_available()
    impls = [i for i in IMPLS if i != "pyvips" or vips]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        # The inputs are made in a child too: Linux carries a process's peak RSS across fork and
        # exec, so this driver must stay small for the children's ru_maxrss to mean anything.
        made = json.loads(
            subprocess.run(
                [sys.executable, __file__, "--make", tmp],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        cases = [(name, Path(path)) for name, path in made["cases"]]
        notes = made["notes"]
        print(f"inputs made in {time.perf_counter() - t0:.1f} s; {args.runs} runs per cell")
        print(f"pyvips: libvips {vips}" if vips else "pyvips: not importable, column skipped")
        print(f"CPU cores: {os.cpu_count()}; Python {sys.version.split()[0]}")
        base = subprocess.run(
            [sys.executable, "-c", _IMPORTS_ONLY], capture_output=True, text=True, check=True
        ).stdout.strip()
        print(f"child peak RSS with imports only (python + PIL): {base} MiB")
        print()
        header = (
            f"{'input':<26}{'MB':>6} | {'project':>8}{'naive':>8}{'pyvips':>8} ms"
            f" | {'naive/proj':>10}{'proj/vips':>10} | {'RSS MiB proj':>12}{'naive':>7}{'vips':>7}"
        )
        print(header)
        print("-" * len(header))
        for name, path in cases:
            results = {impl: measure(impl, path, args.runs) for impl in impls}
            print(_row(name, path.stat().st_size / 1e6, results))
            notes += [
                f"{i} failed on {name}: {r}" for i, r in results.items() if isinstance(r, str)
            ]
    print()
    print(
        f"targets (12 MP JPEG): naive/project >= {TARGET_SPEEDUP}, project/pyvips <= "
        f"{TARGET_VIPS_RATIO}, project peak RSS <= {TARGET_RSS_MIB} MiB"
    )
    for note in notes:
        print("note:", note)


_IMPORTS_ONLY = (
    "import resource, PIL.Image, blurhash; "
    "print(round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))"
)


def _row(name: str, mb: float, results: dict[str, dict | str]) -> str:
    def ms(impl: str) -> str:
        r = results.get(impl)
        return f"{r['ms']:8.0f}" if isinstance(r, dict) else f"{'n/a':>8}"

    def rss(impl: str) -> str:
        r = results.get(impl)
        return f"{r['rss']:7.1f}" if isinstance(r, dict) else f"{'n/a':>7}"

    def ratio(a: str, b: str) -> str:
        ra, rb = results.get(a), results.get(b)
        if isinstance(ra, dict) and isinstance(rb, dict):
            return f"{ra['ms'] / rb['ms']:9.2f}x"
        return f"{'n/a':>10}"

    return (
        f"{name:<26}{mb:6.1f} | {ms('project')}{ms('naive')}{ms('pyvips')}   "
        f" | {ratio('naive', 'project')}{ratio('project', 'pyvips')} | "
        f"{rss('project'):>12}{rss('naive')}{rss('pyvips')}"
    )


if __name__ == "__main__":
    main()
