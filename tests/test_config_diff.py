"""mimex.config.diff: the one comparison of saved configs behind resume, sweep and plot checks."""

from mimex.config.diff import changed_keys, flatten, value_text
from mimex.config.overrides import resolve_config


def test_flatten_keeps_env_options_whole_and_flattening_twice_is_once():
    nested = {"env": {"name": "dmc/cheetah-run", "options": {"action_repeat": 2}}, "ppo": {"hidden": (64, 64)}}
    flat = flatten(nested)
    assert flat == {"env.name": "dmc/cheetah-run", "env.options": {"action_repeat": 2}, "ppo.hidden": [64, 64]}
    assert flatten(flat) == flat


def test_changed_keys_names_each_difference_in_key_order_and_skips_what_it_is_told():
    a = {"steps": 10, "ppo": {"lr": 1e-3, "hidden": (64, 64)}, "explore": {"beta": 0.05}}
    b = {"steps": 20, "ppo": {"lr": 3e-4, "hidden": [64, 64]}, "explore": {"beta": 0.05, "name": "rnd"}}
    assert changed_keys(a, b, {"steps"}) == [("explore.name", None, "rnd"), ("ppo.lr", 1e-3, 3e-4)]
    assert changed_keys(a, a) == []
    assert value_text([64, 64]) == "[64, 64]" and value_text(None) == "None"


def test_options_of_an_explorer_neither_run_uses_do_not_count():
    rnd = {"explore": {"name": "rnd", "rnd": {"lr": 1e-3}, "icm": {"linear_encoder": False}}}
    rnd_b = {"explore": {"name": "rnd", "rnd": {"lr": 1e-3}, "icm": {"linear_encoder": True}}}
    icm = {"explore": {"name": "icm", "rnd": {"lr": 1e-3}, "icm": {"linear_encoder": True}}}
    assert changed_keys(rnd, rnd_b) == []
    # a run that uses ICM against one that does not: its options count
    assert changed_keys(rnd, icm) == [("explore.icm.linear_encoder", False, True), ("explore.name", "rnd", "icm")]


def test_the_config_hash_ignores_unused_explorer_options_only():
    from mimex.config.overrides import resolve_config
    from mimex.run.sweep import config_hash

    rnd = resolve_config("debug", {"explore.name": "rnd"}, [])
    assert config_hash(rnd) == config_hash(resolve_config("debug", {"explore.name": "rnd"}, ["explore.icm.lr=0.1"]))
    assert config_hash(rnd) != config_hash(resolve_config("debug", {"explore.name": "rnd"}, ["explore.rnd.lr=0.1"]))
    icm = resolve_config("debug", {"explore.name": "icm"}, [])
    assert config_hash(icm) != config_hash(resolve_config("debug", {"explore.name": "icm"}, ["explore.icm.lr=0.1"]))


def test_a_whole_number_for_a_float_key_is_the_same_run():
    from mimex.run.sweep import config_hash

    as_int = resolve_config("debug", {"ppo.target_kl": 0, "explore.beta": 1})
    as_float = resolve_config("debug", {"ppo.target_kl": 0.0, "explore.beta": 1.0})
    assert type(as_int.ppo.target_kl) is float and type(as_int.explore.beta) is float
    assert config_hash(as_int) == config_hash(as_float)
    assert type(resolve_config("debug", {"env.num_envs": 4}).env.num_envs) is int  # ints stay ints
