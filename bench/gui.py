"""GUI engine throughput per app on one core, screenshots off and on (1280x800).

Three rows per app, measured in the same run so they compare:
- ``generate_shard`` (the real path: task, env, teacher, the episode runner, the Arrow rows
  and blobs), tiers mixed as in configs (expert 0.4, reflective 0.2, noisy 0.3, random 0.1);
- the env alone replaying those episodes' stored actions (layout, tree, accepted set and
  screenshot per step; no teacher, no runner): the engine's own cost;
- the baseline: raw Pillow drawing a blank 1280x800 palette frame with the same number of
  boxes and labels as the app's average screen, then PNG-encoding it.

Also the single-label rejection metric over the expert episodes, and ``--screenshots DIR``
writes one representative screenshot per app (docs/screenshots/<app>.png).

Usage: python bench/gui.py [--episodes N] [--quick] [--apps form,mail] [--screenshots DIR]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw

from stores.schema import Action, Provenance, from_table
from synth.generate import ShardSpec, generate_shard
from synth.gui.app import app_names
from synth.gui.metrics import single_label_rejection
from synth.gui.toolkit import font
from synth.registry import get_family

MIX = {"expert": 0.4, "reflective": 0.2, "noisy": 0.3, "random": 0.1}
LEVELS = (1, 2, 3, 4, 5)
PROV = Provenance("", "", "bench", "bench", "bench", datetime.now(UTC))


class Clock:
    """Wall-clock and this process's CPU seconds: on a shared machine the CPU rate is the
    per-core figure (the wall rate also counts other processes' time slices)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def shard(app: str, episodes: int, images: str, tiers: dict[str, float] = MIX, levels: tuple[int, ...] = LEVELS):
    spec = ShardSpec(app, 1, 0, episodes, tiers, levels, {"images": images})
    with Clock() as clock:
        out = generate_shard(spec, PROV)
    return out, clock


def env_alone(app: str, trajectories: list, images: str) -> float:
    """Steps per CPU second of the env replaying stored actions (no teacher, no runner)."""
    f = get_family(app)
    steps = 0
    with Clock() as clock:
        for t in trajectories:
            env = f.make_env(t.task, {"images": images})
            for s in t.steps:
                env.accepted_actions()
                env.accepts(s.action)
                env.step(Action(s.action.name, s.action.arguments))
                steps += 1
    return steps / clock.cpu


def pillow_baseline(boxes: int, frames: int = 40) -> float:
    """Frames per CPU second of raw Pillow: ``boxes`` rectangles with a cached label each,
    on a blank 1280x800 palette image, PNG-encoded at compress_level 1."""
    glyph = font(14).getmask2("Label text", mode="1")[0]
    with Clock() as clock:
        for _ in range(frames):
            image = Image.new("P", (1280, 800), 0)
            image.putpalette(bytes(range(48)) * 16)
            draw = ImageDraw.Draw(image)
            for i in range(boxes):
                x, y = 20 + (i % 4) * 300, 20 + (i // 4) * 40 % 760
                draw.rectangle((x, y, x + 280, y + 34), fill=1, outline=2)
                draw.draw.draw_bitmap((x + 8, y + 10), glyph, 3)
            image.save(io.BytesIO(), format="PNG", compress_level=1)
    return frames / clock.cpu


def screenshots(folder: Path, apps: list[str]) -> None:
    """One screenshot per app: halfway through a seeded d3 expert episode."""
    folder.mkdir(parents=True, exist_ok=True)
    for app in apps:
        f = get_family(app)
        t = from_table(shard(app, 1, "off", {"expert": 1.0}, (3,))[0].trajectories)[0]
        env = f.make_env(t.task, {"images": "off"})
        for s in t.steps[: len(t.steps) // 2]:
            env.step(Action(s.action.name, s.action.arguments))
        env.images = "task"
        png = env.observe().image
        (folder / f"{app}.png").write_bytes(png)
        print(f"wrote {folder / f'{app}.png'} ({len(png) / 1024:.1f} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=200, help="episodes per app with screenshots off")
    parser.add_argument("--quick", action="store_true", help="40 episodes per app, for a fast check")
    parser.add_argument("--apps", default=",".join(app_names()))
    parser.add_argument("--screenshots", type=Path, help="write one screenshot per app to this folder and stop")
    args = parser.parse_args()
    apps = [a for a in args.apps.split(",") if a]
    if args.screenshots:
        screenshots(args.screenshots, apps)
        return
    episodes = 40 if args.quick else args.episodes
    with_images = max(10, episodes // 4)
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; one process; tiers {MIX}; "
          "difficulties 1-5; screen 1280x800; rates per CPU second of this process (wall-clock in brackets)\n")  # fmt: skip
    print("| app | screenshots | generate_shard episodes/s | generate_shard steps/s | env alone steps/s | mean steps | mean PNG KB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    totals: dict[str, list[float]] = {"off": [], "steps": []}
    elements = []
    for app in apps:
        for images, n in (("off", episodes), ("steps", with_images)):
            out, clock = shard(app, n, images)
            trajs = from_table(out.trajectories)
            steps = sum(len(t.steps) for t in trajs)
            alone = env_alone(app, trajs[: max(10, n // 2)], images)
            kb = statistics.mean(len(b) for b in out.blobs["bytes"].to_pylist()) / 1024 if images != "off" else 0
            totals[images].append(steps / clock.cpu)
            print(f"| {app} | {images} | {n / clock.cpu:,.1f} ({n / clock.wall:,.1f}) | {steps / clock.cpu:,.0f} "
                  f"({steps / clock.wall:,.0f}) | {alone:,.0f} | {steps / n:.1f} | {kb:.1f} |")  # fmt: skip
            if images == "off":
                f = get_family(app)
                elements.append(statistics.mean(
                    len(f.make_env(t.task, {"images": "off"}).view().elements) for t in trajs[:20]))  # fmt: skip
    boxes = round(statistics.mean(elements))
    print(f"| raw Pillow baseline | {boxes} boxes + labels, PNG | {pillow_baseline(boxes):,.0f} frames/s | | | | |")
    print(f"\nsteps/s per core, mean over apps: screenshots off {statistics.mean(totals['off']):,.0f} "
          f"(goal 2,000), on {statistics.mean(totals['steps']):,.0f} (goal 150)")
    for tier in ("expert", "reflective", "noisy", "random"):
        rates = []
        for app in apps:
            out, clock = shard(app, max(20, episodes // 4), "off", {tier: 1.0})
            rates.append(sum(len(s) for s in out.trajectories["steps"].to_pylist()) / clock.cpu)
        print(f"  {tier} only, screenshots off: {statistics.mean(rates):,.0f} steps/s")
    print("\n## single-label rejection (expert episodes): share of acceptable actions a single-label check rejects\n")
    print("| app | steps | samples | exact match | click within 14 px | click within 28 px |")
    print("|---|---:|---:|---:|---:|---:|")
    for app in apps:
        out, _ = shard(app, 60 if not args.quick else 20, "off", {"expert": 1.0})
        r = single_label_rejection(from_table(out.trajectories))
        print(f"| {app} | {r['steps']} | {r['samples']} | {r['exact_match_rejects']:.1%} | "
              f"{r['within_14px_rejects']:.1%} | {r['within_28px_rejects']:.1%} |")  # fmt: skip


if __name__ == "__main__":
    main()
