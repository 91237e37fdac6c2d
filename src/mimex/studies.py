"""The paper's studies as sweep specs (plain data, the same schema as a YAML spec file; see
``mimex.run.sweep``), each in two sizes:

* ``paper``: the paper's setting and budgets (the ``pixmc-paper`` preset: 512 envs x 32
  steps, pixels+state, steps and lr follow the task as in the official configs) and 7 seeds
  (Atari: 5, as appendix A.5). For a GPU machine or a cluster.
* ``cpu``: what 2 CPU cores can do: the same PixMC setting (pixels+state, the explorer on the
  image features), 5 seeds, smaller budgets. Each PixMC run is the paper's run cut short:
  the presets' lr schedule spans the paper's budget (``ppo.schedule_steps``), so a ``cpu``
  curve is the start of a ``paper`` curve, and raising ``steps`` extends finished runs.
  ``fig3-pixmc``: FrankaReach and KukaReach at the full budget, the six other tasks at 64 PPO
  iterations (1,048,576 steps); the other PixMC studies: 1,048,576 steps per run.
  ``fig3-dmc``: the ``dmc-cpu`` preset (a cheaper DrQ-v2). ``a5``: a smoke run.

Why not the state vector, which steps 1.3-2.7x faster (run/speeds.py): from it MIMEx's bonus
collapses within 1M steps (raw masked-prediction loss 1.37 -> 0.09 on KukaReach, against
1.21 -> 0.83 from image features on FrankaReach) and sparse FrankaReach with MIMEx reached 5%
success at the full budget, against 80% and 98% (2 seeds) from pixels (docs/results.md). A
study from state would test another method than the paper's.

Run one with ``mimex sweep fig4@cpu`` (or ``--size cpu``); ``--dry-run`` lists the runs,
steps and estimated hours.
"""

from __future__ import annotations

import copy
from typing import Any

PIXMC = ["pixmc/FrankaReach", "pixmc/KukaReach", "pixmc/FrankaCabinet", "pixmc/KukaCabinet",
         "pixmc/FrankaPick", "pixmc/KukaPick", "pixmc/FrankaMove", "pixmc/KukaMove"]
DMC = ["dmc/acrobot_swingup", "dmc/cartpole_swingup_sparse", "dmc/finger_turn_easy",
       "dmc/finger_turn_hard", "dmc/quadruped_walk", "dmc/quadruped_run"]
EXPLORERS = ["none", "icm", "rnd", "mimex"]
CPU_STEPS = 64 * 16_384  # 64 PPO iterations of the paper's 512 x 32 rollout
# cpu size of the PixMC ablations: the paper's setting (pixels+state) at 1M steps, 5 seeds.
PIXMC_CPU = {"set": {"steps": CPU_STEPS}, "seeds": 5,
             "notes": "cpu: the paper's setting (pixels+state), the first 64 iterations (1,048,576 steps) "
                      "of the paper's run (the lr schedule spans the paper's budget), 6% of "
                      "KukaReach's and 2% of KukaPick's budget: too early for success on "
                      "these tasks here. At beta 0.05 the bonus pays for half of Kuka's action "
                      "penalty, so at 1M all 35 sparse Kuka runs of fig7@cpu and fig2@cpu end 96% or more of their episodes by arm contact "
                      "(runs grown to 3M left that phase at 1.3-1.5M, still without success; "
                      "docs/results.md); compare episode length, contact-ended share and bonus "
                      "(`mimex report --metric ...`, `python scripts/episode_phases.py`)"}
PIXMC_PAPER = {"seeds": 7}


def _mimex(seq_len: int, ratio: float, **more: Any) -> dict[str, Any]:
    return {"explore.name": "mimex", "explore.mimex.seq_len": seq_len,
            "explore.mimex.mask_ratio": ratio, **more}


# Official per-length mask ratios (notes 1.3): l2 0.5, l3 0.6, l4-l6 0.7 (1 visible step each).
SEQ_LEN = {f"l{n}": _mimex(n, {2: 0.5, 3: 0.6}.get(n, 0.7)) for n in range(2, 7)}

STUDIES: dict[str, dict[str, Any]] = {
    "demo": {
        "description": "`make run`: MIMEx vs no bonus on the sparse toy corridor, 2 seeds each (a few minutes)",
        "preset": "demo",
        "axes": {"explore": ["none", "mimex"]},
        "seeds": 2,
    },
    "fig3-pixmc": {
        "description": "Fig. 3 top: PPO with no bonus (action noise), ICM, RND, MIMEx on the eight PixMC-Sparse tasks",
        "preset": "pixmc-paper",
        "set": {"env.reward": "sparse"},
        "axes": {"env": PIXMC, "explore": EXPLORERS},
        "sizes": {
            "paper": PIXMC_PAPER,
            "cpu": {"seeds": 5,
                    "per_env": {t: {"steps": CPU_STEPS} for t in PIXMC if "Reach" not in t},
                    "notes": "cpu: the paper's setting (pixels+state); FrankaReach (8.2M steps) and "
                             "KukaReach (16.4M) at the paper's budget, the other six tasks at 64 "
                             "iterations (1,048,576 steps) only: far below their 16-66M budgets"},
        },
    },
    "fig3-dmc": {
        "description": "Fig. 3 bottom: DrQ-v2 with no bonus, ICM, RND, MIMEx on six DMC tasks (pixels)",
        "preset": "dmc",
        "axes": {"env": DMC, "explore": {"none": {"explore.name": "none"}, "icm": {"explore.name": "icm"},
                                         "rnd": {"explore.name": "rnd", "explore.beta": 0.01},
                                         "mimex": {"explore.name": "mimex"}}},
        "sizes": {
            "paper": {"seeds": 7, "notes": "the dmc preset: 1.55M steps = 3.1M frames at action repeat 2"},
            "cpu": {"preset": "dmc-cpu", "seeds": 5,
                    "notes": "cpu: the dmc-cpu preset (64x64 pixels, batch 64, bf16, n-step 3, "
                             "40k steps = 80k frames, explorer on stored 64-d embeddings; "
                             "docs/drqv2.md): not the paper's agent, and 2.6% of its budget"},
        },
    },
    "fig4": {
        "description": "Fig. 4: sequence length l2..l6 (official mask ratios), nm1 vs nm5 and the default vs "
                       "the large decoder (at l5) on Kuka Reach and Kuka Pick",
        "preset": "pixmc-paper",
        "set": {"env.reward": "sparse"},
        "axes": {"env": ["pixmc/KukaReach", "pixmc/KukaPick"],
                 "variant": {**SEQ_LEN, "l5-nm5": _mimex(5, 0.7, **{"explore.mimex.n_masks": 5}),
                             "l5-large": _mimex(5, 0.7, **{"explore.mimex.size": "large"})}},
        "sizes": {"paper": PIXMC_PAPER, "cpu": PIXMC_CPU},
    },
    "fig5": {
        "description": "Fig. 5: time masking at 20/50/70% vs feature masking at 80/90/95% (l5) on Kuka Reach "
                       "and Kuka Pick",
        "preset": "pixmc-paper",
        "set": {"env.reward": "sparse"},
        "axes": {"env": ["pixmc/KukaReach", "pixmc/KukaPick"],
                 "variant": {**{f"time-{r}": _mimex(5, r) for r in (0.2, 0.5, 0.7)},
                             **{f"feature-{r}": _mimex(5, r, **{"explore.mimex.mask": "feature"})
                                for r in (0.8, 0.9, 0.95)}}},
        "sizes": {"paper": PIXMC_PAPER, "cpu": PIXMC_CPU},
    },
    "fig7": {
        "description": "Fig. 7 / A.6: uniform vs fixed (newest steps) masks on Kuka Reach",
        "preset": "pixmc-paper",
        "set": {"env.reward": "sparse", "env.name": "pixmc/KukaReach"},
        "axes": {"variant": {
            "l5-uniform-0.7": _mimex(5, 0.7, **{"explore.mimex.mask": "uniform"}),
            "l5-fixed-0.7": _mimex(5, 0.7, **{"explore.mimex.mask": "fixed"}),
            "l5-fixed-0.5": _mimex(5, 0.5, **{"explore.mimex.mask": "fixed"}),
            "l2-fixed-0.5": _mimex(2, 0.5, **{"explore.mimex.mask": "fixed"})}},
        "sizes": {"paper": PIXMC_PAPER, "cpu": PIXMC_CPU},
    },
    "fig2": {
        "description": "Fig. 2: the Kuka Pick reward curriculum: dense + noise, sparse + noise, sparse + MIMEx, "
                       "sparser + MIMEx; the levels compare on one scale with `--metric charts/dense_return` "
                       "(each episode's return under the dense reward)",
        "preset": "pixmc-paper",
        "set": {"env.name": "pixmc/KukaPick"},
        "axes": {"variant": {
            "dense-none": {"env.reward": "dense", "explore.name": "none"},
            "sparse-none": {"env.reward": "sparse", "explore.name": "none"},
            "sparse-mimex": {"env.reward": "sparse", "explore.name": "mimex"},
            "sparser-mimex": {"env.reward": "sparser", "explore.name": "mimex"}}},
        "sizes": {"paper": PIXMC_PAPER, "cpu": PIXMC_CPU},
    },
    "a5": {
        "description": "Appendix A.5: RND, ICM, MIMEx on Atari Private Eye and Venture (PPO, Nature CNN), 95% CIs",
        "preset": "atari",
        "axes": {"env": ["atari/PrivateEye", "atari/Venture"], "explore": ["rnd", "icm", "mimex"]},
        "sizes": {
            "paper": {"seeds": 5, "per_env": {"atari/PrivateEye": {"steps": 200_000_000},
                                              "atari/Venture": {"steps": 100_000_000}},
                      "notes": "the paper's base agent is unspecified; ours is CleanRL-style PPO"},
            "cpu": {"seeds": 5, "set": {"steps": 100_000},
                    "notes": "cpu: a SMOKE RUN (100k steps of the paper's 100-200M): it checks the "
                             "pipeline end to end; expect no learning"},
        },
    },
    "a4": {
        "description": "Appendix A.4: compute profile per method (hours per 10M steps, peak memory) on sparse "
                       "Kuka Reach (as the paper and notes 5.5) with pixels+state, one seed; read it with "
                       "`mimex report --hours-per 10000000`",
        "preset": "pixmc-paper",
        # a timing profile: the lr schedule does not change the time per step; 0 (a schedule
        # over the run's own steps) keeps the profile runs made before schedule_steps matching
        "set": {"env.name": "pixmc/KukaReach", "env.reward": "sparse", "ppo.schedule_steps": 0},
        "axes": {"variant": {
            "none": {"explore.name": "none"}, "icm": {"explore.name": "icm"},
            "rnd": {"explore.name": "rnd"}, "mimex-nm1": _mimex(5, 0.7),
            "mimex-nm5": _mimex(5, 0.7, **{"explore.mimex.n_masks": 5}),
            "mimex-large": _mimex(5, 0.7, **{"explore.mimex.size": "large"})}},
        "sizes": {
            "paper": {"seeds": 1, "set": {"steps": 64 * 16_384},
                      "notes": "64 iterations (1M steps) per method: enough for a steady rate"},
            "cpu": {"seeds": 1, "set": {"steps": 4 * 16_384},
                    "notes": "cpu: the paper's 512 envs x 32 steps, pixels+state, 4 iterations (the "
                             "first includes start-up: read the rate from perf/sps of the later ones)"},
        },
    },
}


def drqv2_available() -> str | None:
    """None if the config accepts ``agent=drqv2``, else why not."""
    from mimex.config.overrides import resolve_config
    from mimex.errors import ConfigError

    try:
        resolve_config(None, {"agent": "drqv2"})
    except ConfigError as exc:
        return str(exc)
    return None


def study_data(name: str) -> dict[str, Any]:
    """A copy of study ``name`` as a spec dict (with ``name`` filled in); fig3-dmc refuses,
    through ``requires``, until the config accepts ``--agent drqv2``."""
    from mimex.config.presets import PRESETS

    data = copy.deepcopy(STUDIES[name])
    data["name"] = name
    if data.get("preset") == "dmc":
        why = drqv2_available() if "dmc" in PRESETS else "no `dmc` preset in this version"
        if why is not None:
            data["requires"] = (f"study {name} runs DrQ-v2, which this version cannot train yet "
                                f"({why}); it becomes runnable once `--agent drqv2` is accepted")
    return data
