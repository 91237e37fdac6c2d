"""`mimex sweep`: spec expansion and naming, errors naming the line, the study presets,
skipping finished and resuming interrupted runs, the local backend (Ray: test_sweep_ray)."""

import json
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from sweep_helpers import TINY, rows, wait_for, write

from mimex.cli import main
from mimex.config.schema import to_dict
from mimex.errors import ConfigError
from mimex.run import backends
from mimex.run.logger import read_metrics
from mimex.run.sweep import expand, load_spec, repeated_runs, select_runs
from mimex.run.worker import run_one
from mimex.studies import STUDIES, drqv2_available

SPEC = """\
name: tiny
preset: debug
set:
  env.name: toy/Corridor
  steps: 256
axes:
  explore: [none, mimex]
  explore.mimex.mask_ratio: [0.5, 0.7]
seeds: 2
"""


def test_expansion_is_the_cross_product_with_readable_names(tmp_path):
    runs = expand(load_spec(write(tmp_path, SPEC)), tmp_path / "root")
    # seed-major: every method at seed 0 first, so a partial sweep compares like with like
    assert [r.name for r in runs[:3]] == ["tiny/toy-Corridor/none-mask_ratio-0.5/seed0",
                                          "tiny/toy-Corridor/none-mask_ratio-0.7/seed0",
                                          "tiny/toy-Corridor/mimex-mask_ratio-0.5/seed0"]
    assert [r.seed for r in runs] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert len(runs) == 8 and runs[-1].name == "tiny/toy-Corridor/mimex-mask_ratio-0.7/seed1"
    last = runs[-1].config
    assert (last.explore.name, last.explore.mimex.mask_ratio, last.seed, last.steps) == ("mimex", 0.7, 1, 256)
    assert last.run_dir == str(tmp_path / "root" / runs[-1].name)
    assert last.env.num_envs == 2  # from the debug preset
    # "none" reads no MIMEx option: its two mask ratios are one config (per seed)
    assert len({r.config_hash for r in runs}) == 6
    assert runs[0].config_hash == runs[1].config_hash != runs[2].config_hash
    again = expand(load_spec(write(tmp_path, SPEC)), tmp_path / "elsewhere", {"threads": 3})
    assert [r.config_hash for r in again] == [r.config_hash for r in runs]  # bookkeeping aside


def test_runs_that_repeat_another_run_are_named_before_the_sweep(tmp_path, capsys):
    runs = expand(load_spec(write(tmp_path, SPEC)), tmp_path / "root")
    assert [(r.name, same.name) for r, same in repeated_runs(runs)] == [
        ("tiny/toy-Corridor/none-mask_ratio-0.7/seed0", "tiny/toy-Corridor/none-mask_ratio-0.5/seed0"),
        ("tiny/toy-Corridor/none-mask_ratio-0.7/seed1", "tiny/toy-Corridor/none-mask_ratio-0.5/seed1")]
    assert main(["sweep", write(tmp_path, SPEC), "--dry-run", "--root", str(tmp_path / "root")]) == 0
    assert ("note: 2 run(s) repeat the config and seed of an earlier run, so they will compute the same thing "
            "(tiny/toy-Corridor/none-mask_ratio-0.7/seed0 = tiny/toy-Corridor/none-mask_ratio-0.5/seed0, "
            in capsys.readouterr().out)


def test_named_override_sets_per_env_and_sizes_in_toml(tmp_path):
    toml = """\
name = "v"
preset = "debug"
seeds = [3]
[axes]
env = ["toy/Corridor", "testing/PointGoal"]
[axes.variant.l2]
"explore.mimex.seq_len" = 2
"explore.mimex.mask_ratio" = 0.5
[axes.variant.nm5]
"explore.mimex.n_masks" = 5
[per_env."testing/PointGoal"]
steps = 64
[sizes.small.set]
steps = 32
[sizes.big]
seeds = 2
"""
    path = write(tmp_path, toml, "spec.toml")
    runs = expand(load_spec(path), "R")  # default size: the first one
    assert [r.name for r in runs] == ["v-small/toy-Corridor/l2/seed3", "v-small/toy-Corridor/nm5/seed3",
                                      "v-small/testing-PointGoal/l2/seed3", "v-small/testing-PointGoal/nm5/seed3"]
    assert [r.config.steps for r in runs] == [32, 32, 64, 64]
    assert runs[0].config.explore.mimex.seq_len == 2 and runs[1].config.explore.mimex.n_masks == 5
    big = expand(load_spec(path + "@big"), "R")
    assert len(big) == 8 and big[0].name == "v-big/toy-Corridor/l2/seed0" and big[0].config.steps == 256
    with pytest.raises(ConfigError, match="unknown size 'huge'; sizes: small, big"):
        load_spec(path, "huge")


@pytest.mark.parametrize("text, line, what", [
    (SPEC.replace("  explore: [none, mimex]", "  explore: [none, mimex"), 8, "not valid YAML.*started on line 7"),
    (SPEC.replace("explore.mimex.mask_ratio:", "explore.mimex.mask_ratoi:"), 8, "unknown config key 'explore.mimex.mask_ratoi'"),
    (SPEC.replace("seeds: 2", "seeds: -1"), 9, "seeds must be a count >= 1"),
    (SPEC.replace("axes:", "axis:"), 6, "unknown top-level key 'axis'"),
    (SPEC.replace("  steps: 256", "  stepz: 256"), 5, "unknown config key 'stepz'"),
    (SPEC.replace("preset: debug", "preset: debgu"), 2, "unknown preset 'debgu'"),
    (SPEC.replace("[none, mimex]", "none"), 7, "must be a non-empty list"),
])
def test_a_malformed_spec_names_the_line(tmp_path, text, line, what):
    with pytest.raises(ConfigError, match=f"spec.yaml, line {line}: .*{what}"):
        expand(load_spec(write(tmp_path, text)), "R")


def test_bad_values_and_toml_syntax_are_named(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"spec.yaml, line 7: run tiny/toy-Corridor/nope-mask_ratio-0.5/seed0: "
                                          r"explore.name must be one of"):
        expand(load_spec(write(tmp_path, SPEC.replace("[none, mimex]", "[nope, mimex]"))), "R")
    with pytest.raises(ConfigError, match=r"spec.yaml, line 8: run .*mask_ratio-1.5/seed0: mask_ratio must be in"):
        expand(load_spec(write(tmp_path, SPEC.replace("[0.5, 0.7]", "[0.5, 1.5]"))), "R")
    with pytest.raises(ConfigError, match=r"spec.toml: not valid TOML: .*line 2"):
        load_spec(write(tmp_path, 'name = "x"\nseeds = = 3\n', "spec.toml"))
    assert main(["sweep", "no-such-study"]) == 2
    assert "unknown study 'no-such-study'" in capsys.readouterr().err


COUNTS = {"fig3-pixmc": (8 * 4 * 7, 8 * 4 * 5), "fig4": (2 * 7 * 7, 2 * 7 * 5), "fig5": (2 * 6 * 7, 2 * 6 * 5),
          "fig7": (4 * 7, 4 * 5), "fig2": (4 * 7, 4 * 5), "a5": (2 * 3 * 5, 2 * 3 * 5), "a4": (6, 6)}


def test_study_presets_expand_at_both_sizes():
    assert set(COUNTS) | {"fig3-dmc", "demo"} == set(STUDIES)
    demo = expand(load_spec("demo"), "R")  # make run: none and mimex, 2 seeds each
    assert sorted(r.name for r in demo) == [f"demo/toy-Corridor/{m}/seed{s}" for m in ("mimex", "none") for s in (0, 1)]
    for name, (paper, cpu) in COUNTS.items():
        assert len(expand(load_spec(name), "R")) == paper, name
        assert len(expand(load_spec(f"{name}@cpu"), "R")) == cpu, name
    cpu = {r.name: r.config for r in expand(load_spec("fig3-pixmc", "cpu"), "R")}
    reach = cpu["fig3-pixmc-cpu/pixmc-KukaReach/mimex/seed4"]
    # the paper's inputs at both sizes: from the state vector MIMEx's bonus collapses (studies.py)
    assert (reach.env.obs, reach.steps, reach.ppo.lr, reach.env.reward) == ("pixels+state", 1000 * 16384, 1.5e-3, "sparse")
    assert all(c.env.obs == "pixels+state" and c.explore.input == "auto"
               for study in ("fig2", "fig4", "fig5", "fig7") for c in
               (r.config for r in expand(load_spec(f"{study}@cpu"), "R")))
    assert cpu["fig3-pixmc-cpu/pixmc-FrankaReach/icm/seed0"].steps == 500 * 16384
    assert cpu["fig3-pixmc-cpu/pixmc-KukaMove/rnd/seed0"].steps == 64 * 16384
    paper = {r.name: r.config for r in expand(load_spec("fig4"), "R")}
    l3 = paper["fig4-paper/pixmc-KukaPick/l3/seed6"]
    assert (l3.explore.mimex.seq_len, l3.explore.mimex.mask_ratio, l3.env.obs, l3.steps) == (3, 0.6, "pixels+state", 4000 * 16384)
    assert paper["fig4-paper/pixmc-KukaReach/l5-large/seed0"].explore.mimex.size == "large"
    fig5 = {r.name: r.config for r in expand(load_spec("fig5@cpu"), "R")}
    assert fig5["fig5-cpu/pixmc-KukaReach/feature-0.95/seed0"].explore.mimex.mask == "feature"
    fig2 = {r.method: r.config for r in expand(load_spec("fig2"), "R")}
    assert (fig2["dense-none"].env.reward, fig2["dense-none"].steps) == ("dense", 2000 * 16384)
    assert (fig2["sparser-mimex"].env.reward, fig2["sparser-mimex"].explore.name) == ("sparser", "mimex")


def test_the_spec_files_in_docs_expand():
    """The spec files the docs point to (e.g. the former state-vector fig7@cpu) stay valid;
    those that grow a study (``*-3m.yaml``) write into its folder with the configs of its
    runs, so that the sweep extends them instead of refusing them as another config."""
    paths = sorted((Path(__file__).parents[2] / "docs" / "specs").glob("*.yaml"))
    assert paths
    for path in paths:
        spec = load_spec(str(path))
        runs = expand(spec, "R")
        grows = path.stem.endswith("-3m")
        assert runs and all(r.name.startswith(f"{spec.name}/") for r in runs), path.name
        assert (spec.name == path.stem) != grows, path.name
    for grown, base in (("fig7-cpu-3m", "fig7@cpu"), ("kukareach-beta-cpu-3m", "kukareach-beta-cpu")):
        base_spec = paths[0].with_name(base + ".yaml") if base.endswith("-cpu") else base
        hashes = {r.name: r.config_hash for r in expand(load_spec(str(base_spec)), "R")}
        runs = expand(load_spec(str(paths[0].with_name(grown + ".yaml"))), "R")
        assert all(hashes[r.name] == r.config_hash and r.config.steps == 3 * 1048576 for r in runs), grown
    state = {r.name: r.config for r in expand(load_spec(str(paths[0].with_name("fig7-cpu-state.yaml"))), "R")}
    uniform = state["fig7-cpu-state/pixmc-KukaReach/l5-uniform-0.7/seed4"]
    assert (uniform.env.obs, uniform.explore.mimex.mask, uniform.steps) == ("state", "uniform", 64 * 16384)


def test_only_selects_a_slice_in_sweep_order_and_refuses_typos():
    runs = expand(load_spec("fig3-pixmc@cpu"), "R")
    pick = select_runs(runs, ["env=pixmc/*Reach", "method=none,mimex", "seed=0-1"])
    assert [r.name for r in pick] == [f"fig3-pixmc-cpu/pixmc-{t}/{m}/seed{s}" for s in (0, 1)
                                      for t in ("FrankaReach", "KukaReach") for m in ("none", "mimex")]
    assert [r.seed for r in select_runs(runs, ["seed=4,2"])] == [2] * 32 + [4] * 32
    assert select_runs(runs, []) == runs
    fig7 = expand(load_spec("fig7@cpu"), "R")
    assert {r.method for r in select_runs(fig7, ["method=l5-*"])} == {"l5-uniform-0.7", "l5-fixed-0.7", "l5-fixed-0.5"}
    for only, msg in [(["env=pixmc/KukaRech"], "no run has env pixmc/KukaRech; this sweep's envs: pixmc/FrankaCabinet"),
                      (["seed=9"], "no run has seed 9; this sweep's seeds: 0, 1, 2, 3, 4"),
                      (["seed=a"], "seeds are numbers or ranges"),
                      (["seed=2-1"], "got '2-1'"), (["seed=0-"], "got '0-'"), (["seed=-1"], "got '-1'"),
                      (["seed=0-4000000000000,9"], "no run has seed 9"),
                      (["env=pixmc/KukaReach", "env=pixmc/FrankaReach"], "no run passes all of these filters"),
                      (["env=pixmc/KukaReach", "env=pixmc/Frank"], "this sweep's envs: pixmc/FrankaCabinet"),
                      (["envs=pixmc/KukaReach"], "expected FIELD=VALUES with FIELD one of env, method, seed"),
                      (["method="], "expected FIELD=VALUES")]:
        with pytest.raises(ConfigError, match=re.escape(msg)):
            select_runs(runs, only)


def test_dry_run_with_only_lists_the_slice(tmp_path, capsys):
    assert main(["sweep", "fig7@cpu", "--dry-run", "--root", str(tmp_path), "--only", "method=l2-*",
                 "--only", "seed=0-1"]) == 0
    out = capsys.readouterr().out
    assert "--only method=l2-* seed=0-1: 2 of the sweep's 20 runs" in out
    assert "total: 2 runs (0 done, 0 to resume, 2 new)" in out and "l5-" not in out
    assert main(["sweep", "fig7@cpu", "--dry-run", "--root", str(tmp_path), "--only", "seed=5"]) == 2
    assert "no run has seed 5" in capsys.readouterr().err


def test_fig3_dmc_waits_for_drqv2():
    if drqv2_available() is None:
        assert len(expand(load_spec("fig3-dmc"), "R")) == 6 * 4 * 7
        cpu = expand(load_spec("fig3-dmc@cpu"), "R")
        assert len(cpu) == 6 * 4 * 5 and cpu[0].name == "fig3-dmc-cpu/dmc-acrobot_swingup/none/seed0"
        assert (cpu[0].config.steps, cpu[0].config.drqv2.batch_size) == (40_000, 64)  # dmc-cpu preset
        assert cpu[10].config.explore.name == "rnd" and cpu[10].config.explore.beta == 0.01  # as the paper
    else:
        with pytest.raises(ConfigError, match="runs DrQ-v2, which this version cannot train yet"):
            load_spec("fig3-dmc")


def test_dry_run_lists_runs_steps_and_hours(tmp_path, capsys):
    assert main(["sweep", "fig7@cpu", "--dry-run", "--root", str(tmp_path), "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "new      fig7-cpu/pixmc-KukaReach/l2-fixed-0.5/seed4" in out
    assert "total: 20 runs (0 done, 0 to resume, 20 new); 21M env steps" in out
    assert "run-hours" in out and "--workers 2" in out
    assert not any(tmp_path.iterdir())  # a dry run writes nothing


def _interrupt_in_process(run, meta):
    """Train ``run`` here and stop it with SIGTERM after two rows, as a killed sweep leaves
    it (a checkpoint, no summary). A no-op SIGTERM handler outside the runner's own keeps a
    late signal harmless."""
    import torch

    old = signal.signal(signal.SIGTERM, lambda *a: None)
    threads = torch.get_num_threads()
    stop = threading.Thread(target=lambda: wait_for(lambda: rows(run.config.run_dir) >= 2)
                            and os.kill(os.getpid(), signal.SIGTERM))
    stop.start()
    try:
        with pytest.raises(SystemExit) as exit_:
            run_one(to_dict(run.config), meta)
        assert exit_.value.code == 128 + signal.SIGTERM
    finally:
        stop.join()
        signal.signal(signal.SIGTERM, old)
        torch.set_num_threads(threads)


def test_local_sweep_skips_finished_and_resumes_interrupted(tmp_path, capsys):
    spec_path = write(tmp_path, TINY.format(explore="none", steps=512).replace(", checkpoint_minutes: 0", ""))
    root = tmp_path / "runs"
    spec = load_spec(spec_path)
    runs = expand(spec, root.resolve(), {"threads": 1, "progress": False})
    todo = backends.prepare([backends.run_state(r) for r in runs], spec)
    _interrupt_in_process(*todo[1])
    state = backends.run_state(runs[1])
    assert state.state == "resume" and 0 < state.step < 512

    assert main(["sweep", spec_path, "--root", str(root), "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 runs under" in out and "0 finished (skipped), 1 to resume, 1 new" in out
    for run in runs:
        assert json.loads((Path(run.config.run_dir) / "summary.json").read_text())["step"] == 512
        assert [r["step"] for r in read_metrics(run.config.run_dir)] == list(range(32, 513, 32))
    meta = json.loads((Path(runs[1].config.run_dir) / "sweep.json").read_text())
    assert meta["config_hash"] == runs[1].config_hash and meta["method"] == "none" and meta["seed"] == 1
    assert len(meta["starts"]) == 2 and meta["version"]["package"]
    assert meta["version"]["commit"] is None or len(meta["version"]["commit"]) == 40

    assert main(["sweep", spec_path, "--root", str(root)]) == 0  # everything finished: nothing runs
    out = capsys.readouterr().out
    assert "2 finished (skipped), 0 to resume, 0 new" in out and "start" not in out


GROWN = """\
name: g
preset: debug
set: {{env.name: toy/Corridor, explore.name: mimex, steps: {steps}, ppo.lr_schedule: cos{more}}}
seeds: 1
"""


def _curve(run_dir):
    return [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in read_metrics(run_dir)]


def test_a_grown_budget_extends_finished_runs_exactly_when_the_schedule_allows(tmp_path, capsys):
    """With ``ppo.schedule_steps`` at the largest budget, raising a study's ``steps`` extends
    its finished runs (state ``extend``) to exactly the run a straight sweep gives; when the
    lr schedule spans each run's own steps, a finished run of another budget is refused with
    the reason and the fix."""
    more = ", ppo.schedule_steps: 128"
    short, grown = write(tmp_path, GROWN.format(steps=64, more=more), "a.yaml"), write(
        tmp_path, GROWN.format(steps=128, more=more), "b.yaml")
    root, straight = (tmp_path / "runs").resolve(), (tmp_path / "straight").resolve()
    assert main(["sweep", short, "--root", str(root)]) == 0
    run = expand(load_spec(grown), root)[0]
    assert backends.run_state(run).state == "extend"
    assert main(["sweep", grown, "--root", str(root), "--dry-run"]) == 0
    assert "1 to extend" in capsys.readouterr().out
    assert main(["sweep", grown, "--root", str(root)]) == 0
    assert "0 finished (skipped), 0 to resume, 1 to extend, 0 new" in capsys.readouterr().out
    assert main(["sweep", grown, "--root", str(straight)]) == 0
    assert backends.run_state(run).state == "done"
    got, want = _curve(run.config.run_dir), _curve(straight / run.name)
    assert [r["step"] for r in got] == list(range(32, 129, 32)) and got == want

    lost = (tmp_path / "lost").resolve()  # finished, but its checkpoint is gone: not redone silently
    assert main(["sweep", short, "--root", str(lost)]) == 0
    (lost / run.name / "checkpoint.pt").unlink()
    with pytest.raises(ConfigError, match="finished at step 64, below this sweep's 128, but no checkpoint.pt"):
        backends.run_state(expand(load_spec(grown), lost)[0])

    compressed = write(tmp_path, GROWN.format(steps=64, more=""), "c.yaml")
    assert main(["sweep", compressed, "--root", str(tmp_path / "c")]) == 0
    with pytest.raises(ConfigError, match=r"at another budget \(steps 64, this sweep's 128\).*ppo.schedule_steps"):
        backends.run_state(expand(load_spec(write(tmp_path, GROWN.format(steps=128, more=""), "d.yaml")),
                                  (tmp_path / "c").resolve())[0])


def test_a_second_sigterm_does_not_cancel_the_checkpoint_but_a_second_ctrl_c_does():
    """A scheduler that signals every process of a job and the sweep forwarding its own
    SIGTERM reach a worker twice, and a Ray task cancelled after a SIGTERM gets Ray's
    simulated SIGINT (``_thread.interrupt_main``): it must still stop at the iteration's end
    and checkpoint. Only Ctrl-C twice stops at once."""
    import _thread

    from mimex.run.train import _StopFlag

    with _StopFlag() as stop:
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs before os.kill returns here
        os.kill(os.getpid(), signal.SIGTERM)
        _thread.interrupt_main()  # what ray.cancel(force=False) does in the task's worker
        time.sleep(0.01)  # (the simulated signal is handled at the next bytecode boundary)
        assert stop.signal == signal.SIGTERM
    with pytest.raises(KeyboardInterrupt, match="received twice"), _StopFlag() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.signal == signal.SIGINT
        os.kill(os.getpid(), signal.SIGINT)


def _worker_pids(root):
    """Pids of live ``mimex.run.worker`` processes whose run directory is under ``root``."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"mimex.run.worker" in cmd and any(str(root).encode() in part for part in cmd):
            pids.append(int(proc.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds the workers through /proc")
@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "SIGINT, stdout gone", "SIGHUP under nohup"])
def test_stopping_the_sweep_stops_its_workers_with_checkpoints(tmp_path, how):
    """`kill SWEEP_PID`, a scheduler's SIGTERM, a closed terminal (SIGHUP, after which stdout
    fails) or Ctrl-C must not orphan the local workers, which run in their own sessions: the
    sweep forwards a SIGTERM, each worker checkpoints, the sweep exits 128 + the signal and
    the same command resumes every run. Under `nohup` (SIGHUP ignored) a hangup changes nothing."""
    import subprocess

    sig = getattr(signal, how.split(",")[0].split()[0])
    spec_path = write(tmp_path, TINY.format(explore="none", steps=1_000_000))
    root = (tmp_path / "runs").resolve()
    # the sweep starts as from a terminal whatever this test inherited (under `nohup` or as a
    # shell's background job, SIGHUP or SIGINT come ignored, and an ignored signal stays so)
    code = ("import signal, sys; from mimex.cli import main; "
            "signal.signal(signal.SIGINT, signal.default_int_handler); "
            "signal.signal(signal.SIGHUP, signal.SIG_DFL); ")
    if "nohup" in how:
        code += "signal.signal(signal.SIGHUP, signal.SIG_IGN); "
    sweep = subprocess.Popen([sys.executable, "-c", code + "sys.exit(main())",
                              "sweep", spec_path, "--root", str(root), "--workers", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    runs = expand(load_spec(spec_path), root, {"threads": 1, "progress": False})
    try:
        assert wait_for(lambda: all(rows(r.config.run_dir) >= 2 for r in runs), 120)
        assert len(_worker_pids(root)) == 2
        if "nohup" in how:
            sweep.send_signal(signal.SIGHUP)
            time.sleep(1.0)
            assert sweep.poll() is None and len(_worker_pids(root)) == 2
            sig = signal.SIGTERM
        if "stdout gone" in how:
            sweep.stdout.close()
        sweep.send_signal(sig)
        out = "" if "stdout gone" in how else sweep.communicate(timeout=120)[0]
        sweep.wait(timeout=120)
    finally:
        if sweep.poll() is None:
            sweep.kill()
        for pid in _worker_pids(root):  # only reached when the test fails: leave nothing behind
            os.kill(pid, signal.SIGKILL)
    assert _worker_pids(root) == []
    for run in runs:
        state = backends.run_state(run)
        assert state.state == "resume" and 0 < state.step < state.total, (run.name, state)
    if "stdout gone" not in how:  # (with stdout gone Python may exit 120: it cannot flush it)
        assert sweep.returncode == 128 + sig, out
        assert f"interrupted ({signal.Signals(sig).name}): stopping 2 worker(s)" in out


def test_a_directory_of_another_config_stops_the_sweep(tmp_path, capsys):
    spec_path = write(tmp_path, TINY.format(explore="none", steps=64))
    root = tmp_path / "runs"
    spec = load_spec(spec_path)
    runs = expand(spec, root.resolve(), {"threads": 1})
    backends.prepare([backends.run_state(r) for r in runs], spec)
    changed = TINY.format(explore="none", steps=64).replace("checkpoint_minutes: 0", "checkpoint_minutes: 0, ppo.gamma: 0.9")
    other = load_spec(write(tmp_path, changed, "other.yaml"))
    with pytest.raises(ConfigError, match=r"holds a run of another config .* since it ran "
                       r"\(ppo.gamma: the run has 0.99, this sweep 0.9\)\. Use another --root"):
        backends.run_state(expand(other, root.resolve())[0])


def test_runs_saved_before_a_config_key_existed_still_match_the_sweep(tmp_path):
    """A key added to the code since a run was written (here ``ppo.compile``) gets the value
    that behaves as the run ran: its directory is still this sweep's run, not another config."""
    spec_path = write(tmp_path, TINY.format(explore="none", steps=64))
    root = tmp_path / "runs"
    spec = load_spec(spec_path)
    runs = expand(spec, root.resolve(), {"threads": 1})
    backends.prepare([backends.run_state(r) for r in runs], spec)
    for i, run in enumerate(runs):
        d = Path(run.config.run_dir)
        meta = json.loads((d / "sweep.json").read_text())
        del meta["config"]["ppo"]["compile"]
        meta["config_hash"] = "0123456789ab"  # what the older code hashed
        if i == 0:
            (d / "sweep.json").write_text(json.dumps(meta))
        else:  # a plain run directory: config.json only
            (d / "sweep.json").unlink()
            (d / "config.json").write_text(json.dumps(meta["config"]))
    assert [backends.run_state(r).state for r in runs] == ["new", "new"]
    changed = TINY.format(explore="none", steps=64).replace("checkpoint_minutes: 0", "checkpoint_minutes: 0, ppo.gamma: 0.9")
    other = load_spec(write(tmp_path, changed, "other.yaml"))
    with pytest.raises(ConfigError, match="holds a run of another config"):
        backends.run_state(expand(other, root.resolve())[0])
    # a key whose old behaviour differs from today's default: that run did compute something else
    d = Path(runs[1].config.run_dir)
    saved = json.loads((d / "config.json").read_text())
    del saved["ppo"]["feature_norm"]  # older runs: "none"; today: "standardize"
    (d / "config.json").write_text(json.dumps(saved))
    with pytest.raises(ConfigError, match=r"another config .*\(ppo.feature_norm: the run has none, this sweep standardize\)"):
        backends.run_state(runs[1])
    saved["ppo"] = None  # damaged: a clear error, not a traceback
    (d / "config.json").write_text(json.dumps(saved))
    with pytest.raises(ConfigError, match="saved config cannot be read"):
        backends.run_state(runs[1])


def test_a_local_sweep_reports_each_runs_pace_and_the_time_left(tmp_path):
    """Long sweeps show progress: steps/s and time left per running run, and for the sweep."""
    spec = load_spec(write(tmp_path, TINY.format(explore="none", steps=4096)))
    runs = expand(spec, (tmp_path / "runs").resolve(), {"threads": 1, "progress": False, "log_every": 1})
    todo = backends.prepare([backends.run_state(r) for r in runs], spec)
    lines = []
    assert backends.run_local(todo, workers=1, log=lines.append, report_every=0.2) == 0
    paced = [ln for ln in lines if re.fullmatch(r"  running t/toy-Corridor/none/seed0: step \d+/4096 "
                                                r"\([0-9.e+]+ steps/s, \d+ (s|min) left\)", ln)]
    assert paced, lines
    # the queued second run counts in the sweep's time left
    assert any(re.fullmatch(r"  sweep: 0/2 finished; about \d+ (s|min) left at the running runs' "
                            r"pace \(1 worker\(s\)\)", ln) for ln in lines), lines
    assert backends.duration_text(45) == "45 s" and backends.duration_text(720) == "12 min"
    assert backends.duration_text(9360) == "2.6 h"
