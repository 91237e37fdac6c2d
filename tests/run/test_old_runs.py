"""Runs written by an older mimex (before the PixMC-fidelity keys existed) resume as they ran."""

import json

import torch

from mimex.cli import main
from mimex.config.migrate import upgrade_config, was_upgraded
from mimex.config.schema import RunConfig, from_dict, to_dict
from mimex.explore import make_explorer
from mimex.run.checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint

# What the first release wrote for keys that have since changed type or appeared.
NEW_PPO = ("sampler", "value_loss", "adam_eps", "feature_norm", "compile")


def _as_old(data):
    """A current config dict written the way the first release wrote it."""
    old = json.loads(json.dumps(data))
    for k in NEW_PPO:
        old["ppo"].pop(k)
    old["ppo"]["norm_adv"] = True
    for k in ("input", "chunk_size"):
        old["explore"].pop(k)
    old["explore"]["rnd"]["reward_norm"] = True
    for k in ("predictor_extra_layer", "return_gamma"):
        old["explore"]["rnd"].pop(k)
    for k in ("linear_encoder", "detach_forward", "update_proportion"):
        old["explore"]["icm"].pop(k)
    old["explore"]["mimex"].pop("update_proportion")
    old.pop("drqv2")
    return old


def test_old_config_reads_as_the_old_behaviour():
    data = to_dict(RunConfig())
    data["env"]["obs"] = "pixels+state"
    old = _as_old(data)
    assert was_upgraded(old) and not was_upgraded(upgrade_config(old))
    cfg = from_dict(RunConfig, upgrade_config(old))
    assert (cfg.ppo.norm_adv, cfg.ppo.feature_norm, cfg.ppo.adam_eps) == ("minibatch", "none", 1e-5)
    assert cfg.explore.input == "features+state"  # the old explorer saw image features and state
    assert cfg.explore.rnd.reward_norm == "step" and cfg.explore.rnd.predictor_extra_layer


def test_checkpoint_of_an_older_version_resumes_with_its_saved_config(tmp_path):
    run = tmp_path / "old"
    base = ["train", "--run-dir", str(run), "--no-progress", "--preset", "debug",
            "--env", "testing/PointGoal", "--obs", "pixels+state", "--explore", "rnd",
            "--set", "ppo.feature_norm=none", "--set", "explore.input=features+state",
            "--set", "explore.rnd.reward_norm=step", "--set", "threads=1"]
    assert main([*base, "--steps", "64"]) == 0
    # rewrite the run as the first release would have written it
    ckpt = load_checkpoint(run / CHECKPOINT)
    ckpt["config"] = _as_old(ckpt["config"])
    save_checkpoint(run, ckpt)
    (run / "config.json").write_text(json.dumps(ckpt["config"]), encoding="utf-8")
    assert main(["train", "--run-dir", str(run), "--steps", "128", "--no-progress"]) == 0
    resumed = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert resumed["ppo"]["feature_norm"] == "none" and resumed["explore"]["input"] == "features+state"
    assert json.loads((run / "summary.json").read_text())["step"] == 128


def test_old_explorer_state_dict_with_a_bool_reward_norm_loads():
    sd = make_explorer("rnd", input_dim=3, reward_norm="step").state_dict()
    sd["config"]["reward_norm"] = True  # how the first release saved it
    make_explorer("rnd", input_dim=3, reward_norm=True).load_state_dict(sd)
    x = torch.randn(4, 1, 3)
    assert make_explorer("rnd", input_dim=3, reward_norm="step").reward(x).shape == (4,)
