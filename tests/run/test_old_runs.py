"""Runs written by an older mimex (before the PixMC-fidelity keys existed) resume as they ran."""

import json

import pytest
import torch

from mimex.cli import main
from mimex.config.diff import flatten
from mimex.config.migrate import upgrade_config, was_upgraded
from mimex.config.schema import RunConfig, from_dict, to_dict
from mimex.errors import CheckpointError
from mimex.explore import make_explorer
from mimex.run.checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint

# What the first release wrote for keys that have since changed type or appeared.
NEW_PPO = ("sampler", "value_loss", "adam_eps", "feature_norm", "compile", "schedule_steps", "std_squared",
           "reward_clip")


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
    for k in ("linear_encoder", "detach_forward", "update_proportion", "return_gamma"):
        old["explore"]["icm"].pop(k)
    for k in ("update_proportion", "return_gamma"):
        old["explore"]["mimex"].pop(k)
    old["explore"]["icm"]["reward_norm"] = False
    old["explore"]["mimex"]["reward_norm"] = True
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
    assert (cfg.explore.icm.reward_norm, cfg.explore.mimex.reward_norm) == ("none", "step")
    assert cfg.ppo.reward_clip == 0.0  # rewards were never clipped before the option existed


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


@pytest.mark.parametrize("name", ["rnd", "icm", "mimex"])
@pytest.mark.parametrize("flag", [True, False])
def test_old_explorer_state_dict_with_a_bool_reward_norm_loads(name, flag):
    opts = {"input_dim": 3, **({"action_dim": 2} if name == "icm" else {}), **({"seq_len": 2, "mask_ratio": 0.5} if name == "mimex" else {})}
    mode = "step" if flag else "none"
    sd = make_explorer(name, reward_norm=mode, **opts).state_dict()
    sd["config"]["reward_norm"] = flag  # how versions before 'return' saved it
    if name != "rnd":
        del sd["return_scaler"]  # not saved by ICM and MIMEx then
    ex = make_explorer(name, reward_norm=mode, **opts)
    ex.load_state_dict(sd)
    assert make_explorer(name, reward_norm=flag, **opts).config.reward_norm == mode
    x, a = torch.randn(4, 2, 3), torch.randn(4, 2, 2)
    assert ex.reward(x, actions=a if name == "icm" else None).shape == (4,)
    with pytest.raises(CheckpointError, match="reward_norm: saved"):
        make_explorer(name, reward_norm="return", **opts).load_state_dict(sd)


# Every key a config had before `upgrade_config` began filling keys in (frozen: never add to it).
FIRST_KEYS = {
    "env": "name reward obs num_envs options", "": "agent steps seed run_dir device threads log_every "
    "checkpoint_minutes tensorboard progress deterministic",
    "ppo": "num_steps epochs minibatches lr lr_schedule gamma gae_lambda clip value_coef clip_value_loss "
           "ent_coef max_grad_norm norm_adv norm_obs hidden activation encoder feature_dim init_std action_std",
    "explore": "name beta beta_anneal batch_size epochs seq_end",
    "explore.mimex": "seq_len mask_ratio n_masked n_visible n_masks mask pad size embed_dim depth num_heads "
                     "decoder_embed_dim decoder_depth decoder_num_heads use_cls norm_loss lr reward_norm seed device",
    "explore.icm": "feature_dim hidden_dim beta eta lr reward_norm seed device",
    "explore.rnd": "output_dim hidden_dim lr obs_norm reward_norm update_proportion seed device",
}


def test_every_key_added_since_the_first_release_has_its_old_value_in_migrate():
    """A key added to RunConfig needs the value that behaves as before it existed in
    mimex.config.migrate, or checkpoints saved before it stop resuming ("checkpoint has None")."""
    first = {f"{sec}.{k}" if sec else k for sec, keys in FIRST_KEYS.items() for k in keys.split()}
    data = to_dict(RunConfig())
    for key in flatten(data):
        if key in first or key.startswith("drqv2."):  # drqv2 is filled in whole
            continue
        old = json.loads(json.dumps(data))
        *path, last = key.split(".")
        section = old
        for p in path:
            section = section[p]
        del section[last]
        section = upgrade_config(old)
        for p in path:
            section = section[p]
        assert last in section, f"{key} was added without an entry in mimex.config.migrate"
