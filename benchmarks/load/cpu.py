"""Where the CPU went during a load run (kb's workers, PostgreSQL, Locust), and py-spy's profile of the workers.

CPU time is read from `/proc/<pid>/stat` (user + system clock ticks) for a process and all
its descendants, at the start and the end of the measured window. A process that ended in
between (a gunicorn worker replaced after `max_requests`) takes its ticks with it, so the
figures are a floor.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    found = [pid]
    for current in found:
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                found += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime


def cpu_ticks(roots: dict[str, int]) -> dict[str, dict[int, int]]:
    """For each named process tree, the CPU ticks used so far by each of its processes."""
    return {name: {pid: _ticks(pid) for pid in descendants(root)} for name, root in roots.items()}


def cores_used(before: dict[str, dict[int, int]], after: dict[str, dict[int, int]], seconds: float) -> dict[str, float]:
    """Cores each tree kept busy between two samples (processes born in between count from their start)."""
    used = {}
    for name, processes in after.items():
        ticks = sum(now - before.get(name, {}).get(pid, 0) for pid, now in processes.items())
        used[name] = ticks / TICKS_PER_SECOND / seconds if seconds else 0.0
    return used


def _package(frame: str) -> str:
    """The top folder of a frame's file (`sqlalchemy`, `kb`, `jinja2`...), from py-spy's `name (path:line)`."""
    location = frame.rpartition("(")[2]
    return location.split("/", 1)[0] if "/" in location else location.split(":", 1)[0]


def top_costs(files: list[Path], count: int = 12) -> list[str]:
    """py-spy raw profiles summed: time by package (self), kb's costliest functions (inclusive), costliest lines."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for file in files:
        for line in file.read_text(errors="replace").splitlines():
            stack, _, samples = line.rpartition(" ")
            if not stack or not samples.isdigit():
                continue
            frames = [frame.strip() for frame in stack.split(";")]
            total += int(samples)
            own[frames[-1]] += int(samples)
            packages[_package(frames[-1])] += int(samples)
            for frame in set(frames):
                if _package(frame) == "kb":
                    inclusive[frame] += int(samples)
    if not total:
        return ["no samples (is py-spy installed, and allowed to read the workers?)"]

    def share(samples: int) -> str:
        return f"{100 * samples / total:5.1f}%"

    lines = [f"{total} samples of the workers holding the GIL (not waiting); by package, time on its own lines:"]
    lines += [f"  {share(n)}  {name}" for name, n in packages.most_common(count)]
    lines.append("kb's functions, including what they call:")
    lines += [f"  {share(n)}  {name}" for name, n in inclusive.most_common(count)]
    lines.append("functions, time on their own lines:")
    lines += [f"  {share(n)}  {name}" for name, n in own.most_common(count)]
    return lines
