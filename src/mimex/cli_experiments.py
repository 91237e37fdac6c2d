"""``mimex sweep``, ``plot``, ``report`` and ``archive``: the experiment commands of the CLI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

SIZES_HELP = "paper (the paper's budgets and seeds) or cpu (what 2 CPU cores can do)"


def add_parsers(sub: Any) -> None:
    from mimex.studies import STUDIES

    s = sub.add_parser(
        "sweep", help="run a study preset or a YAML/TOML sweep spec (skips finished runs, resumes others)",
        description="Expand SPEC into runs (the cross product of its axes and seeds) under --root and "
                    "train them; finished runs are skipped and interrupted ones resume.",
        epilog=f"studies: {', '.join(STUDIES)} (each in sizes paper and cpu: fig4@cpu or --size cpu)")
    s.add_argument("spec", help="study name (e.g. fig3-pixmc, fig4@cpu) or a .yaml/.toml spec file")
    s.add_argument("--size", help=f"study size: {SIZES_HELP}; default: the spec's first size")
    s.add_argument("--dry-run", action="store_true", help="list runs, steps and estimated hours; run nothing")
    s.add_argument("--workers", type=int, default=1, help="local backend: runs at a time (default 1)")
    s.add_argument("--backend", choices=("local", "ray"), default="local")
    s.add_argument("--address", help="ray backend: cluster address (default: the RAY_ADDRESS "
                                     "environment variable, else a new local Ray)")
    s.add_argument("--root", default="runs", help="folder of the run directories (default runs)")
    s.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1)")
    s.add_argument("--max-retries", type=int, default=3, help="ray backend: retries of a run whose worker dies")
    s.add_argument("--archive", metavar="DIR",
                   help="archive each run into DIR as it finishes, and every selected run when the "
                        "sweep ends or stops (mimex archive: config, metrics, summary, no checkpoints; "
                        "DIR/<run name>, e.g. results/fig3-pixmc-cpu/pixmc-FrankaReach/mimex/seed0)")
    s.add_argument("--only", action="append", default=[], metavar="FIELD=VALUES",
                   help="run a slice of the sweep: env=pixmc/KukaReach, method=none,mimex (globs "
                        "allowed), seed=0-1; repeatable, every filter must hold")
    a = sub.add_parser(
        "archive", help="copy runs' config, metrics (gzipped) and summary, without checkpoints",
        description="Copy each run's record (config.json, summary.json, sweep.json, eval.json and "
                    "metrics.jsonl as metrics.jsonl.gz) into --out, keeping its path below the folder "
                    "it was found in, with an archive.json. mimex report / plot read the copy; it cannot "
                    "be resumed. Archiving again only replaces a record with one of the same run and "
                    "at least as many rows.")
    a.add_argument("runs", nargs="+", help="run directories, or folders searched for them")
    a.add_argument("--out", required=True, help="archive folder (e.g. results)")
    for name, what in (("plot", "mean curves with 95%% bootstrap bands, IQM and probability of improvement"),
                       ("report", "a markdown table per environment: final value, AUC, seeds, hours, memory")):
        p = sub.add_parser(name, help=what)
        p.add_argument("runs", nargs="+", help="run directories, or folders searched for them")
        p.add_argument("--metric", action="append", default=[],
                       help="a metrics.jsonl key (default charts/success_rate; e.g. charts/episodic_return, "
                            "charts/episodic_length, charts/dense_return, explore/bonus_to_extrinsic, "
                            "eval/episodic_return); repeatable: one table or figure per metric")
        p.add_argument("--window", type=int, default=200,
                       help="per-episode metrics: mean over the last N finished episodes (0: raw rows)")
        p.add_argument("--group-by", action="append", default=[], metavar="KEY",
                       help="config key whose value also tells methods apart (repeatable)")
        p.add_argument("--finished", action="store_true",
                       help="only runs that reached their step budget (a sweep still running: its "
                            "unfinished seeds would pull each method's curve and final value early)")
        p.add_argument("--until", type=int, metavar="STEPS",
                       help="read every run as it stood at this step (rows after it left out; with "
                            "--finished, runs that reached it count as finished): a study grown to a "
                            "larger budget, compared where all its seeds are")
        if name == "plot":
            p.add_argument("--out", default="plots", help="output folder (default plots)")
            p.add_argument("--x", choices=("steps", "frames"), default="steps",
                           help="x-axis: environment steps, or frames (x action repeat: DMC 2, Atari 4)")
            p.add_argument("--name", help="file name stem (default: the metric; with several "
                                          "metrics, NAME_<metric>)")
        else:
            p.add_argument("--out", help="also write the table to this file")
            p.add_argument("--hours-per", type=float, default=1e6,
                           help="hours column per this many steps (default 1e6; 1e7 for appendix A.4)")


def cmd_sweep(a: argparse.Namespace) -> int:
    from mimex.run.backends import plan_text, prepare, run_local, run_state
    from mimex.run.ray_backend import run_ray
    from mimex.run.sweep import expand, load_spec, repeated_runs, select_runs

    spec = load_spec(a.spec, a.size)
    root = Path(a.root).resolve()
    if a.archive:
        _check_archive_folder(a.archive, root)
    runs = expand(spec, root, {"threads": a.threads, "progress": False})
    if a.only:
        selected = select_runs(runs, a.only)
        print(f"--only {' '.join(a.only)}: {len(selected)} of the sweep's {len(runs)} runs", flush=True)
        runs = selected
    repeats = repeated_runs(runs)
    if repeats:
        shown = ", ".join(f"{r.name} = {same.name}" for r, same in repeats[:3])
        more = f" and {len(repeats) - 3} more" if len(repeats) > 3 else ""
        print(f"note: {len(repeats)} run(s) repeat the config and seed of an earlier run, so they will "
              f"compute the same thing ({shown}{more}); an axis probably sets options that those runs "
              "do not use (e.g. MIMEx options for explore=none)", flush=True)
    states = [run_state(r) for r in runs]
    if a.dry_run:
        print(plan_text(spec, states, a.workers if a.backend == "local" else len(states)))
        return 0
    todo = prepare(states, spec)
    done = len(states) - len(todo)
    resume = sum(s.state == "resume" for s in states)
    extend = sum(s.state == "extend" for s in states)
    grow = f", {extend} to extend" if extend else ""
    print(f"sweep {spec.name}{'@' + spec.size if spec.size else ''}: {len(states)} runs under {root}: "
          f"{done} finished (skipped), {resume} to resume{grow}, {len(todo) - resume - extend} new",
          flush=True)
    from mimex.run.stopping import never_raising

    log = never_raising(lambda text: print(text, flush=True))  # stdout may be gone (SIGHUP)
    on_done = None if not a.archive else (lambda run: _archive([run], a.archive, log, finished=True))
    try:
        if a.backend == "ray":
            import os

            failed = run_ray(todo, a.address or os.environ.get("RAY_ADDRESS"), a.max_retries, log,
                             on_done=on_done)
        else:
            failed = run_local(todo, max(a.workers, 1), log, on_done=on_done)
    except KeyboardInterrupt as exc:
        if a.archive:
            _archive(runs, a.archive, log)
        try:
            print("sweep interrupted; run the same command to resume", file=sys.stderr)
        except OSError:  # the terminal is gone (SIGHUP)
            pass
        return 128 + getattr(exc, "signum", 2)  # 130 for Ctrl-C, 143 for SIGTERM
    if a.archive:
        _archive(runs, a.archive, log)
    top = Path(runs[0].config.run_dir).parents[2] if runs else root
    if failed:
        print(f"sweep: {failed} run(s) failed (see sweep.log in their directories); run the same "
              "command again to retry them", file=sys.stderr)
        return 1
    which = f"{len(states)} selected runs" if a.only else f"{len(states)} runs"
    print(f"sweep: all {which} finished. Next: mimex report {top}  /  mimex plot {top}")
    return 0


def _archive(runs: list[Any], out: str, log: Any, finished: bool = False) -> None:
    """``mimex sweep --archive``: each run that has started, into ``out/<run name>``; a
    failure is reported, never raised (the runs themselves are untouched). ``finished``: the
    runs were reported done, so a missing folder is worth a word (Ray without a shared disk)."""
    from mimex.analysis.archive import archive_runs

    for run in runs:
        d = Path(run.config.run_dir)
        if not (d / "config.json").exists():
            if finished:
                log(f"  could not archive {run.name}: {d} is not visible here (with Ray, put --root "
                    "on a file system the driver shares)")
            continue
        try:
            for r in archive_runs([d], Path(out) / Path(run.name).parent):
                if r.outcome == "written":
                    log(f"  archived {run.name} ({r.rows} rows) into {r.dest}")
        except Exception as exc:  # noqa: BLE001 - reported; the sweep and its runs go on
            log(f"  could not archive {run.name}: {type(exc).__name__}: {exc}")


def _check_archive_folder(archive: str, root: Path) -> None:
    """``--archive`` must be apart from ``--root``: records among the runs would be counted as
    more seeds by ``mimex report``, and runs among the records would be trained there."""
    from mimex.errors import ConfigError

    out = Path(archive).resolve()
    if out == root or root in out.parents or out in root.parents:
        raise ConfigError(f"--archive {archive} and --root {root} overlap; put the archive beside "
                          "the runs (e.g. --root runs --archive results), so that a report of either "
                          "counts each seed once")


def cmd_archive(a: argparse.Namespace) -> int:
    from mimex.analysis.archive import archive_runs

    done = archive_runs(a.runs, a.out)
    for d in done:
        what = {"written": "archived", "same": "unchanged", "kept": "kept (the archive has more rows)"}
        print(f"{what[d.outcome]:<8} {d.dest}  ({d.rows} rows)")
    print(f"{sum(d.outcome == 'written' for d in done)} of {len(done)} runs written to {a.out}")
    return 0


def _groups(a: argparse.Namespace):
    """The runs' groups and the metrics asked for (each checked before anything is drawn)."""
    from mimex.analysis.curves import check_metric, find_runs, group_runs

    groups = group_runs(find_runs(a.runs, a.finished, a.until), tuple(a.group_by))
    metrics = list(dict.fromkeys(a.metric)) or ["charts/success_rate"]
    for metric in metrics:
        check_metric(groups, metric)
    return groups, metrics


def cmd_plot(a: argparse.Namespace) -> int:
    from mimex.analysis.plot import plot

    groups, metrics = _groups(a)
    for metric in metrics:
        name = a.name if not a.name or len(metrics) == 1 else f"{a.name}_{metric.replace('/', '_')}"
        for p in plot(groups, metric, a.out, a.x, a.window, name):
            print(p)
    return 0


def cmd_report(a: argparse.Namespace) -> int:
    from mimex.analysis.report import report

    groups, metrics = _groups(a)
    text = "\n".join(report(groups, metric, a.window, a.hours_per) for metric in metrics)
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text + "\n", encoding="utf-8")
    return 0


HANDLERS = {"sweep": cmd_sweep, "plot": cmd_plot, "report": cmd_report, "archive": cmd_archive}
