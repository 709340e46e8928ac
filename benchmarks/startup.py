"""How long Fluoride takes to start, against ``python -c "import boto3"`` in the same run.

Two things are timed, each as a fresh interpreter (``subprocess``), wall clock with
``time.perf_counter``:

* ``fluoride --help``: what the ``fluoride`` console script runs (``from fluoride.cli
  import main; main()``), asked for its help. Target: at most 0.5x the baseline.
* ``import fluoride; fluoride.Fluoride``: the SDK's entry point, ready to make a client.
  Target: at most 1.1x the baseline (it needs boto3, so it cannot be much less).

Shown beside them, without a target: ``boto3.Session(region_name=...)`` and
``fluoride.Fluoride(region=...)``, making a client (both build a botocore session, which
reads botocore's data files; neither calls AWS). The SDK imports the rest of its base
(the AWS seam, events, clock) when a client is made, so this pair is the honest
comparison of what a user waits for before a first call.

The baseline, ``python -c "import boto3"``, runs interleaved with them (round robin, after
one warm-up run of each that also writes the bytecode caches), so a busy machine slows all
three alike. Each is run ``--repeat`` times (default 21) and the median reported; the ratio
is median / baseline median.

``--src LABEL=PATH`` times another source tree too (repeatable), for a before/after in one
run; by default only this checkout's ``src/``. For example, against the commit before::

    git archive HEAD~1 src | tar -x -C /tmp/before
    python benchmarks/startup.py --src before=/tmp/before/src

Results go to ``benchmarks/results/startup.json``; the exit status is 1 when this
checkout misses a target.

    python benchmarks/startup.py [--repeat 21] [--src LABEL=PATH ...] [--output PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THIS = "this checkout"

BASELINE = "import boto3"
#: what the generated `fluoride` console script does, with argv ["--help"]
HELP = "import re, sys; from fluoride.cli import main; sys.exit(main())"
SDK = "import fluoride; fluoride.Fluoride"
#: shown, without a target: making a client (both make a botocore session, no AWS call)
SESSION = "import boto3; boto3.Session(region_name='us-east-1')"
CLIENT = "import fluoride; fluoride.Fluoride(region='us-east-1')"

#: measured command -> the most it may take, as a multiple of the baseline
TARGETS = {"fluoride --help": 0.5, "import fluoride; fluoride.Fluoride": 1.1}


def command(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def run_once(argv: list[str], src: Path | None) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(sources: dict[str, Path], repeat: int) -> dict[str, list[float]]:
    """Seconds per run of each case, the cases interleaved round robin."""
    cases: dict[str, tuple[list[str], Path | None]] = {
        "import boto3": (command(BASELINE), None),
        "boto3.Session(...)": (command(SESSION), None),
    }
    for label, src in sources.items():
        suffix = "" if label == THIS else f" [{label}]"
        cases[f"fluoride --help{suffix}"] = (command(HELP, "--help"), src)
        cases[f"import fluoride; fluoride.Fluoride{suffix}"] = (command(SDK), src)
        cases[f"fluoride.Fluoride(...){suffix}"] = (command(CLIENT), src)
    for argv, src in cases.values():  # warm-up: bytecode caches, file system caches
        run_once(argv, src)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, (argv, src) in cases.items():
            times[name].append(run_once(argv, src))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--src", action="append", default=[], metavar="LABEL=PATH",
                        help="another source tree to time (e.g. before=/tmp/before/src)")
    parser.add_argument("--output", type=Path,
                        default=ROOT / "benchmarks" / "results" / "startup.json")
    args = parser.parse_args()
    sources = {THIS: ROOT / "src"}
    for item in args.src:
        label, sep, path = item.partition("=")
        if not sep:
            parser.error(f"--src {item!r}: use LABEL=PATH")
        sources[label] = Path(path).resolve()

    times = measure(sources, args.repeat)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    baseline = medians["import boto3"]
    rows = []
    for name, median in medians.items():
        target = TARGETS.get(name)
        rows.append({
            "case": name,
            "median_s": round(median, 4),
            "min_s": round(min(times[name]), 4),
            "ratio": round(median / baseline, 3),
            "target": target,
            "met": None if target is None else median / baseline <= target,
        })

    print(f"{'case':<50} {'median':>8} {'min':>8} {'ratio':>6}  target")
    for row in rows:
        target = "" if row["target"] is None else (
            f"<= {row['target']}x " + ("met" if row["met"] else "MISSED"))
        print(f"{row['case']:<50} {row['median_s'] * 1000:>6.0f}ms {row['min_s'] * 1000:>6.0f}ms "
              f"{row['ratio']:>5.2f}x  {target}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "python": platform.python_version(),
        "platform": platform.platform(),
        "repeat": args.repeat,
        "sources": {label: str(path) for label, path in sources.items()},
        "results": rows,
    }, indent=2) + "\n")
    print(f"\nwritten to {args.output}")
    return 0 if all(row["met"] is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
