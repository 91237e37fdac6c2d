"""``mimex archive``: a run's record (config, metrics, summary) without its checkpoints.

A study's run directories hold checkpoints of tens of MB each; what a report, a plot or
``scripts/episode_phases.py`` reads is a few small files. ``archive_runs`` copies those
into another folder, keeping each run's path below the folder it was found in:

* ``config.json``, ``summary.json``, ``sweep.json`` and ``eval.json`` as they are;
* ``metrics.jsonl`` compressed as ``metrics.jsonl.gz`` (read by ``load_run`` like the original);
* ``archive.json``: where the record came from, when, its rows and its last step.

An archived run is a record, not a run: it cannot be resumed or extended, and ``mimex
train`` refuses its folder (``errors.RUN_DIR_ARCHIVED``). Archiving again replaces a record
only with one of at least as many rows, so an archive made from a run that later lost rows
(or from another machine's copy started over) never shrinks.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from mimex.analysis.curves import Run, find_runs
from mimex.errors import ARCHIVE_FILE, ConfigError

COPIED = ("config.json", "summary.json", "sweep.json", "eval.json")
METRICS_GZ = "metrics.jsonl.gz"


@dataclass
class Archived:
    """What happened to one run: ``written`` (new or grown), ``same`` or ``kept`` (the
    archive already had more rows, left as it was)."""

    source: Path
    dest: Path
    rows: int
    outcome: str


def _source_lines(run_dir: Path) -> list[str]:
    """The complete metrics lines of a run (a torn last line of a running run left out)."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            json.loads(line)
        except ValueError:
            continue
        lines.append(line)
    return lines


def _archived_rows(dest: Path) -> int:
    try:
        return int(json.loads((dest / ARCHIVE_FILE).read_text(encoding="utf-8"))["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        return -1


def _destinations(paths: list[str | Path]) -> list[tuple[Run, Path]]:
    """(run, path relative to the archive) for every run under ``paths``."""
    pairs = []
    for raw in paths:
        p = Path(raw)
        for run in find_runs([p]):
            rel = Path(p.name) if run.path == p else run.path.relative_to(p)
            pairs.append((run, rel))
    rels = [rel for _, rel in pairs]
    twice = sorted({str(r) for r in rels if rels.count(r) > 1})
    if twice:
        raise ConfigError(f"two runs would be archived as {', '.join(twice)}; archive them into "
                          "different --out folders, or pass the folder that holds them both")
    return pairs


def archive_runs(paths: list[str | Path], out: str | Path) -> list[Archived]:
    """Archive every run directory at or below ``paths`` into ``out`` (see the module doc)."""
    out = Path(out)
    pairs = _destinations(paths)
    for run, rel in pairs:  # every check before anything is written
        src, dest = run.path, out / rel
        if src.resolve() == dest.resolve():
            raise ConfigError(f"{src} is already in the archive folder {out}; choose another --out")
        if (src / ARCHIVE_FILE).exists():
            raise ConfigError(f"{src} is itself an archived record; archive the original run directory")
        if dest.exists() and not (dest / ARCHIVE_FILE).exists():
            raise ConfigError(f"{dest} exists and is not an archived run; choose another --out "
                              "(archive never overwrites other files)")
    done = []
    for run, rel in pairs:
        src, dest = run.path, out / rel
        lines = _source_lines(src)
        before = _archived_rows(dest)
        if before > len(lines):
            done.append(Archived(src, dest, before, "kept"))
            continue
        if before == len(lines):
            done.append(Archived(src, dest, before, "same"))
            continue
        tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")  # hidden: find_runs skips it
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name in COPIED:
            if (src / name).exists():
                shutil.copy2(src / name, tmp / name)
        # mtime 0: the same rows give the same bytes, so a re-archive does not churn git
        with open(tmp / METRICS_GZ, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write("".join(line + "\n" for line in lines).encode("utf-8"))
        last_step = int(json.loads(lines[-1])["step"]) if lines else 0
        record = {"source": str(src.resolve()), "archived": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  "rows": len(lines), "last_step": last_step,
                  "finished": run.finished,
                  "note": "a record of a run (config, metrics, summary) without its checkpoints: "
                          "mimex report / plot read it; it cannot be resumed"}
        (tmp / ARCHIVE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        if dest.exists():  # the older record stays whole until the new one is in place
            os.replace(dest, old)
        os.replace(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
        done.append(Archived(src, dest, len(lines), "written"))
    return done
