"""``mimex archive``: a run's record (config, metrics, summary) without its checkpoints.

A study's run directories hold checkpoints of tens of MB each; what a report, a plot or
``scripts/episode_phases.py`` reads is a few small files. ``archive_runs`` copies those
into another folder, keeping each run's path below the folder it was found in:

* ``config.json``, ``summary.json``, ``sweep.json`` and ``eval.json`` as they are;
* ``metrics.jsonl`` compressed as ``metrics.jsonl.gz`` (read by ``load_run`` like the original);
* ``archive.json``: where the record came from, when, its rows, last step and whether finished.

An archived run is a record, not a run: it cannot be resumed or extended, and ``mimex
train`` refuses its folder (``errors.RUN_DIR_ARCHIVED``). Archiving again replaces a record
only with one of the same run (same config apart from bookkeeping and ``steps``) and at
least as many rows, so a record never shrinks, e.g. from a copy that started over. The
small files are read before the metrics: a run writes every row before its summary, so a
record's rows always cover its summary even when the run is archived while it trains.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from mimex.analysis.curves import find_runs, load_run
from mimex.config.diff import BOOKKEEPING, changed_keys
from mimex.errors import ARCHIVE_FILE, ConfigError

COPIED = ("config.json", "summary.json", "sweep.json", "eval.json")
METRICS_GZ = "metrics.jsonl.gz"


@dataclass
class Archived:
    """What happened to one run: ``written`` (new, grown or refreshed), ``same``, or ``kept``
    (the record has more rows than the run now has; left as it was)."""

    source: Path
    dest: Path
    rows: int
    outcome: str


def _source_lines(run_dir: Path) -> list[str]:
    """The complete rows of a run's metrics (a torn last line of a running run left out)."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and "step" in row:
            lines.append(line)
    return lines


def _record_rows(dest: Path) -> int:
    """Rows in the record at ``dest`` (counted from its metrics if archive.json is damaged)."""
    try:
        return int(json.loads((dest / ARCHIVE_FILE).read_text(encoding="utf-8"))["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        return gzip.decompress((dest / METRICS_GZ).read_bytes()).count(b"\n")
    except (OSError, EOFError, zlib.error):
        raise ConfigError(f"the record {dest} is damaged (archive.json and metrics.jsonl.gz unreadable); "
                          "move it away, then archive the run again") from None


def _same_run(src: Path, dest: Path) -> None:
    """A ConfigError if the record at ``dest`` holds another run than ``src``."""
    def config(d: Path) -> dict:
        try:
            return json.loads((d / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
    diff = changed_keys(config(dest), config(src), {*BOOKKEEPING, "steps"})
    if diff:
        shown = "; ".join(f"{k}: record {a!r}, run {b!r}" for k, a, b in diff[:4])
        raise ConfigError(f"{dest} holds the record of another run ({shown}); archive into another --out, "
                          "or move that record away first")


def _destinations(paths: list[str | Path], out: Path) -> list[tuple[Path, Path]]:
    """(run directory, path relative to ``out``) for every run under ``paths``; runs already
    inside ``out`` (an archive kept below the runs) are left out."""
    pairs = []
    inside = out.resolve()
    for raw in paths:
        p = Path(raw)
        for run in find_runs([p]):
            if inside == run.path.resolve() or inside in run.path.resolve().parents:
                continue
            rel = Path(p.resolve().name) if run.path == p else run.path.relative_to(p)
            pairs.append((run.path, rel))
    if not pairs:
        raise ConfigError(f"no runs to archive under {', '.join(map(str, paths))} outside {out}")
    rels = [rel for _, rel in pairs]
    twice = sorted({str(r) for r in rels if rels.count(r) > 1})
    if twice:
        raise ConfigError(f"two runs would be archived as {', '.join(twice)}; archive them into "
                          "different --out folders, or pass the folder that holds them both")
    return pairs


def _check(src: Path, dest: Path, out: Path) -> None:
    if out.resolve() not in dest.resolve().parents:
        raise ConfigError(f"{src} would be archived at {dest}, outside --out {out}; pass the run "
                          "directory or its folder by name")
    if (src / ARCHIVE_FILE).exists():
        raise ConfigError(f"{src} is itself an archived record; archive the original run directory")
    if dest.exists():
        if not (dest / ARCHIVE_FILE).exists():
            raise ConfigError(f"{dest} exists and is not an archived run; choose another --out "
                              "(archive never overwrites other files)")
        _same_run(src, dest)


def _write(src: Path, dest: Path, small: dict[str, bytes], lines: list[str]) -> None:
    """Write the record into a hidden folder beside ``dest``, then swap it in; on failure the
    older record is put back."""
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")  # hidden: find_runs skips it
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, data in small.items():
        (tmp / name).write_bytes(data)
    # mtime 0: the same rows give the same bytes, so archiving again does not churn git
    with open(tmp / METRICS_GZ, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write("".join(line + "\n" for line in lines).encode("utf-8"))
    record = {"source": str(src.resolve()), "archived": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "rows": len(lines), "last_step": int(json.loads(lines[-1])["step"]) if lines else 0,
              "finished": load_run(tmp).finished,
              "note": "a record of a run (config, metrics, summary) without its checkpoints: "
                      "mimex report / plot read it; it cannot be resumed"}
    (tmp / ARCHIVE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    moved = False
    try:
        if dest.exists():  # the older record stays whole until the new one is in place
            os.replace(dest, old)
            moved = True
        os.replace(tmp, dest)
    except BaseException:  # an OSError, or a second Ctrl-C between the two renames
        if moved and not dest.exists():
            os.replace(old, dest)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def archive_runs(paths: list[str | Path], out: str | Path) -> list[Archived]:
    """Archive every run directory at or below ``paths`` into ``out`` (see the module doc)."""
    out = Path(out)
    pairs = _destinations(paths, out)
    for src, rel in pairs:  # every check before anything is written
        _check(src, out / rel, out)
    done = []
    for src, rel in pairs:
        dest = out / rel
        # the small files first: rows read after a summary always cover it
        small = {name: (src / name).read_bytes() for name in COPIED if (src / name).exists()}
        lines = _source_lines(src)
        before = _record_rows(dest) if dest.exists() else -1
        if before > len(lines):
            done.append(Archived(src, dest, before, "kept"))
            continue
        held = {name: (dest / name).read_bytes() for name in COPIED if (dest / name).exists()}
        small = {**held, **small}  # a file the record has and the run no longer has is kept
        if before == len(lines) and held == small:
            done.append(Archived(src, dest, before, "same"))
            continue
        _write(src, dest, small, lines)
        done.append(Archived(src, dest, len(lines), "written"))
    return done
