"""The runner's vectorised PixMC: the generic VecEnv's contract and numbers, one shared batch
renderer, physics in threads without the thread count changing any number."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mimex.envs.pixmc.vector as vector_module  # noqa: E402
from mimex.envs import make_env  # noqa: E402
from mimex.envs.pixmc.vector import BatchRenderer, PixmcRunnerVecEnv  # noqa: E402
from mimex.envs.vector import VecEnv  # noqa: E402


def _maker(name, obs, max_steps=None, reward="sparse"):
    def make(i, model=None):
        env = make_env(name, obs=obs, seed=10 + i, reward=reward, **({} if model is None else {"model": model}))
        if max_steps:
            env.max_steps = max_steps
        return env
    return make


def _run(vec, actions):
    out, episodes = [vec.reset()], []
    for a in actions:
        r = vec.step(a)
        out.append((r.obs, r.next_obs, r.reward, r.terminated, r.truncated, r.success))
        episodes += r.episodes
    return out, episodes


def _assert_same(a, b, pixel_tol=0):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k], pixel_tol)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y, pixel_tol)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        if a.dtype == np.uint8 and pixel_tol:
            assert np.abs(a.astype(int) - b.astype(int)).max() <= pixel_tol
        else:
            np.testing.assert_array_equal(a, b)
    else:
        assert a == b


@pytest.mark.parametrize("name,obs,reward", [
    ("pixmc/FrankaReach", "pixels+state", "sparse"), ("pixmc/KukaPick", "state", "sparse"),
    *[(f"pixmc/{t}", "state", "dense") for t in ("FrankaReach", "KukaReach", "FrankaCabinet", "KukaCabinet",
                                                  "FrankaPick", "KukaPick", "FrankaMove", "KukaMove")]])
def test_same_numbers_as_the_generic_vector_env(name, obs, reward):
    """Rewards (computed as arrays over the envs), flags, state observations and episode
    statistics (with their end reason) are those of the generic VecEnv of per-env steps; images
    differ at most by one intensity level (a viewport in a wider framebuffer rasterises a few
    edge pixels differently)."""
    make = _maker(name, obs, max_steps=7, reward=reward)
    n = 3
    actions = np.random.default_rng(0).uniform(-1.5, 1.5, (16, n, make(0).action_space.shape[0]))
    generic = VecEnv([lambda i=i: make(i) for i in range(n)])
    vec = PixmcRunnerVecEnv(make, n, threads=2)
    a, ea = _run(generic, actions)
    b, eb = _run(vec, actions)
    assert len(ea) == 2 * n and ea == eb
    _assert_same(a, b, pixel_tol=1)
    assert vec.get_state()["ep_length"].tolist() == generic.get_state()["ep_length"].tolist()
    generic.close()
    vec.close()


def test_numbers_do_not_depend_on_the_thread_count():
    make = _maker("pixmc/FrankaReach", "pixels+state", max_steps=5)
    actions = np.random.default_rng(1).uniform(-1, 1, (12, 5, 9))
    runs = []
    for threads in (1, 2, 4):
        vec = PixmcRunnerVecEnv(make, 5, threads=threads)
        runs.append(_run(vec, actions) + (vec.get_state(),))
        vec.close()
    _assert_same(runs[0], runs[1])
    _assert_same(runs[0], runs[2])


def test_snapshot_resumes_exactly_and_matches_the_generic_format():
    """A snapshot of the generic VecEnv restores into the vectorised env and vice versa."""
    make = _maker("pixmc/FrankaReach", "pixels+state", max_steps=6)
    actions = np.random.default_rng(2).uniform(-1, 1, (14, 2, 9))
    straight = PixmcRunnerVecEnv(make, 2)
    full, eps = _run(straight, actions)
    generic = VecEnv([lambda i=i: make(i) for i in range(2)])
    _run(generic, actions[:8])
    resumed = PixmcRunnerVecEnv(make, 2)
    resumed.reset()
    resumed.set_state(generic.get_state())
    rest = [resumed.step(a) for a in actions[8:]]
    for r, ref in zip(rest, full[9:], strict=True):
        _assert_same((r.obs, r.next_obs, r.reward, r.terminated, r.truncated, r.success), ref, pixel_tol=1)
    assert [e for r in rest for e in r.episodes] == eps[len(eps) - sum(len(r.episodes) for r in rest):]
    back = VecEnv([lambda i=i: make(i) for i in range(2)])
    back.reset()
    back.set_state(resumed.get_state())
    np.testing.assert_array_equal(back.get_state()["ep_return"], resumed.get_state()["ep_return"])
    for x in (straight, generic, resumed, back):
        x.close()


def test_a_refused_action_moves_no_env():
    make = _maker("pixmc/FrankaReach", "state")
    vec = PixmcRunnerVecEnv(make, 3, threads=2)
    vec.reset()
    before = vec.get_state()
    bad = np.zeros((3, 9))
    bad[2, 0] = np.nan
    with pytest.raises(ValueError):
        vec.step(bad)
    after = vec.get_state()
    for s0, s1 in zip(before["envs"], after["envs"], strict=True):
        np.testing.assert_array_equal(s0["env"]["sim"], s1["env"]["sim"])
    vec.close()


def test_batch_renderer_equals_one_at_a_time_and_keeps_uint8(monkeypatch):
    make = _maker("pixmc/KukaReach", "pixels")
    envs = [make(0)]
    model = envs[0].model
    envs += [make(i, model) for i in range(1, 7)]
    for e in envs:
        e.reset()
    cam = model.camera(envs[0].info.camera).id
    one = BatchRenderer(model, 64, per_pass=1)
    single = one.render([e.data for e in envs], cam)
    one.close()
    batch = BatchRenderer(model, 64, per_pass=3)  # 2 passes, the second one partial
    tiled = batch.render([e.data for e in envs], cam)
    batch.close()
    assert single.dtype == tiled.dtype == np.uint8 and single.shape == (7, 3, 64, 64)
    assert np.abs(single.astype(int) - tiled.astype(int)).max() <= 1
    monkeypatch.setattr(vector_module, "GRID_COLS", 2)  # 2 x 2 viewports; the last pass: 3 of 4
    grid = BatchRenderer(model, 64, per_pass=4)
    assert (grid.rows, grid.cols) == (2, 2)
    gridded = grid.render([e.data for e in envs], cam)
    grid.close()
    assert np.abs(single.astype(int) - gridded.astype(int)).max() <= 1
    ref = np.stack([e._obs() for e in envs])  # each env's own mujoco.Renderer
    np.testing.assert_array_equal(single, ref)
    assert single.std() > 5, "a real image, not a blank buffer"
    for e in envs:
        e.close()


def test_runner_uses_it_for_pixmc_and_the_old_module_still_imports(monkeypatch):
    from mimex.config.overrides import resolve_config
    from mimex.run import vector as old
    from mimex.run.train import make_vec_env

    assert old.VecEnv is VecEnv
    cfg = resolve_config(None, {"progress": False}, ["env.name=pixmc/FrankaReach", "env.num_envs=2",
                                                     "env.obs=state"])
    envs = make_vec_env(cfg)
    assert isinstance(envs, PixmcRunnerVecEnv) and envs.envs[1].model is envs.envs[0].model
    envs.close()
    monkeypatch.setenv("MIMEX_PIXMC_VECTOR", "0")
    envs = make_vec_env(cfg)
    assert type(envs) is VecEnv
    envs.close()


@pytest.mark.parametrize("name", ["pixmc/FrankaPick", "pixmc/KukaPick", "pixmc/FrankaMove", "pixmc/KukaMove",
                                  "pixmc/KukaCabinet", "pixmc/FrankaCabinet"])
def test_success_drop_and_open_flags_match_the_per_env_step(name):
    """States placed where the batched conditions fire (cube at the Pick height or on the Move
    goal, cube dropped, drawer open): rewards, success (and its hold counter), terminations and
    the finished episodes with their end reason are the per-env step's."""
    make = _maker(name, "state", reward="dense")
    n = 3
    generic = VecEnv([lambda i=i: make(i) for i in range(n)])
    vec = PixmcRunnerVecEnv(make, n, threads=2)
    runs = []
    for venv, envs in ((generic, [e.unwrapped for e in generic.envs]), (vec, vec.envs)):
        venv.reset()
        e0 = envs[0]
        if "Cabinet" in name:
            for e in envs[:2]:
                e.data.qpos[e0._drawer_q] = 0.36
        else:
            cube = slice(e0._cube_q, e0._cube_q + 3)
            if "Move" in name:
                envs[0].data.qpos[cube] = envs[0].data.mocap_pos[e0._goal_mocap]
            else:
                envs[0].data.qpos[e0._cube_q + 2] = 0.8  # at the Pick goal height
            envs[1].data.qpos[e0._cube_q + 2] = e0.spec_task.cube_z0 - 0.2  # dropped
        zero = np.zeros((n, make(0).action_space.shape[0]))
        steps = []
        for _ in range(12):
            r = venv.step(zero)
            steps.append((r, [e._count for e in envs]))
        runs.append(steps)
    for (g, gc), (v, vc) in zip(*runs, strict=True):
        for k in ("reward", "terminated", "truncated", "success", "obs"):
            np.testing.assert_array_equal(getattr(g, k), getattr(v, k), err_msg=k)
        assert g.episodes == v.episodes and gc == vc
    first = runs[1][0][0]
    ended = [ep for r, _ in runs[1] for ep in r.episodes]
    if "Cabinet" not in name:
        assert first.terminated[1] and not first.terminated[0], "the dropped cube ends its episode"
        assert any(ep.get("end") == "dropped" or ep.get("dropped") for ep in ended), ended
        assert first.reward[0] > first.reward[2] + 1.0, "the cube at the goal earns the lift and goal terms"
        if name == "pixmc/FrankaMove":  # Franka Move's success latches on the first step
            assert first.success[0] and not first.success[2]
        else:  # the others need 10 steps in a row: the counter runs while the cube is in place
            assert runs[1][0][1][0] == 1 and runs[1][0][1][2] == 0
    else:
        assert first.reward[0] > first.reward[2] + 1.0, "the open drawer earns the open terms"
        if name == "pixmc/KukaCabinet":  # open for 10 steps in a row
            assert runs[1][-1][0].success[0] and not runs[1][-1][0].success[2]
    generic.close()
    vec.close()


def test_episodes_carry_the_dense_return_and_old_snapshots_still_load():
    """Every finished episode of a sparse run records ``dense_return``, the sum of its steps'
    ``dense_reward``. After a snapshot from before that key existed, the episodes then running
    record none (their sum is unknown), and the next ones record exactly what an uninterrupted
    run does."""
    make = _maker("pixmc/KukaPick", "state", max_steps=5)
    actions = np.random.default_rng(3).uniform(-1, 1, (17, 2, 23))
    single = make(0)
    single.reset()
    dense_sums, total = [], 0.0
    for a in actions[:, 0]:
        _, _, te, tr, info = single.step(a)
        total += info["dense_reward"]
        if te or tr:
            dense_sums.append(total)
            total = 0.0
            single.reset()
    straight = PixmcRunnerVecEnv(make, 2)
    straight.reset()
    env0 = []  # env 0's episodes, told apart by the step's done flags
    for a in actions:
        r = straight.step(a)
        done = np.flatnonzero(r.terminated | r.truncated)
        env0 += [e for row, e in zip(done, r.episodes, strict=True) if row == 0]
    assert [e["dense_return"] for e in env0] == dense_sums and len(dense_sums) >= 3
    assert all(e["dense_return"] != e["return"] for e in env0)

    half = PixmcRunnerVecEnv(make, 2)
    _, before = _run(half, actions[:7])  # stopped mid-episode (steps 6-7 of 5-step episodes)
    old = {k: v for k, v in half.get_state().items() if k != "ep_dense_return"}
    resumed = PixmcRunnerVecEnv(make, 2)
    resumed.reset()
    resumed.set_state(old)
    after = [e for a in actions[7:] for e in resumed.step(a).episodes]
    _, reference = _run(PixmcRunnerVecEnv(make, 2), actions)
    reference = reference[len(before):]
    assert [e["return"] for e in after] == [e["return"] for e in reference]
    assert ["dense_return" in e for e in after[:2]] == [False, False]
    assert after[2:] == reference[2:] and all("dense_return" in e for e in after[2:])
    for x in (straight, half, resumed, single):
        x.close()
