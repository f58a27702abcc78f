"""Import time of ``aiohttp_auth`` against ``aiohttp`` alone, in fresh interpreters.

Each sample is a new ``python -I`` process that times one ``import`` statement
with ``time.perf_counter`` (interpreter start-up is not counted, and no
``-X importtime`` overhead is added). Samples of the two modules are taken in
alternation, after one untimed run of each so that bytecode caches exist, and
the medians are compared. The target is ``aiohttp_auth`` <= 1.2x ``aiohttp``:
importing the package should cost little beyond the aiohttp it needs anyway.

``--breakdown`` also runs ``python -X importtime`` once per module and lists
the modules that ``aiohttp_auth`` loads beyond those ``aiohttp`` loads, by
their own ("self") import time: where to look when the ratio grows.

Usage: ``python benchmarks/import_time.py [--runs 21] [--breakdown]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from typing import Any

BASELINE = "aiohttp"
TARGET = "aiohttp_auth"
RATIO_TARGET = 1.2
TIMEOUT = 60.0

_SNIPPET = (
    "import time\n"
    "start = time.perf_counter()\n"
    "import {module}\n"
    "print(time.perf_counter() - start)\n"
)


def _time_import(module: str) -> float:
    completed = subprocess.run(
        [sys.executable, "-I", "-c", _SNIPPET.format(module=module)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    return float(completed.stdout.strip())


def measure_import_time(runs: int = 21) -> dict[str, Any]:
    """Return per-module samples and medians (seconds) and the ratio of the medians."""
    modules = (BASELINE, TARGET)
    for module in modules:
        _time_import(module)  # untimed: writes bytecode caches, warms the page cache
    samples: dict[str, list[float]] = {module: [] for module in modules}
    for run in range(runs):
        # Alternate which module goes first so drift hits both alike.
        for module in modules if run % 2 == 0 else modules[::-1]:
            samples[module].append(_time_import(module))
    medians = {module: statistics.median(values) for module, values in samples.items()}
    return {
        "runs": runs,
        "samples_s": samples,
        "median_s": medians,
        "ratio": medians[TARGET] / medians[BASELINE],
        "target_ratio": RATIO_TARGET,
    }


def _importtime_self_us(module: str) -> dict[str, int]:
    completed = subprocess.run(
        [sys.executable, "-I", "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    modules: dict[str, int] = {}
    for line in completed.stderr.splitlines():
        # "import time:       self [us] |  cumulative | imported package"
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line[len("import time:") :].split("|")
        modules[name.strip()] = int(self_us)
    return modules


def extra_modules() -> list[tuple[str, int]]:
    """List the modules ``aiohttp_auth`` imports beyond ``aiohttp``'s, slowest first."""
    baseline = _importtime_self_us(BASELINE)
    target = _importtime_self_us(TARGET)
    extra = [(name, us) for name, us in target.items() if name not in baseline]
    return sorted(extra, key=lambda item: item[1], reverse=True)


def format_import_time(result: dict[str, Any]) -> str:
    medians = result["median_s"]
    verdict = "meets" if result["ratio"] <= result["target_ratio"] else "MISSES"
    return (
        f"import {BASELINE}: {medians[BASELINE] * 1e3:.1f} ms, "
        f"import {TARGET}: {medians[TARGET] * 1e3:.1f} ms "
        f"(medians of {result['runs']} fresh processes each)\n"
        f"ratio {TARGET} / {BASELINE}: {result['ratio']:.3f}x "
        f"({verdict} the <= {result['target_ratio']}x target)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="samples per module (default 21)")
    parser.add_argument(
        "--breakdown", action="store_true", help="list the modules aiohttp_auth adds"
    )
    args = parser.parse_args()
    print(format_import_time(measure_import_time(args.runs)))
    if args.breakdown:
        print(f"\nmodules {TARGET} imports beyond {BASELINE} (self time, -X importtime):")
        extra = extra_modules()
        for name, us in extra[:15]:
            print(f"  {us / 1e3:7.2f} ms  {name}")
        total = sum(us for _, us in extra) / 1e3
        print(f"  {total:7.2f} ms  total of all {len(extra)} extra modules")


if __name__ == "__main__":
    main()
