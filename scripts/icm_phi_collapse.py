"""Does ICM's learned feature phi survive on frozen image features? (docs/results.md)

Collects transitions of a uniform random policy with a preset's observation pipeline (for
`atari`: 4 stacked 84x84 frames through the frozen random CNN, standardised, 512-d; for
`pixmc`: the same for the egocentric camera), then trains three ICM variants offline on
minibatches of 512 (as PPO's explorer does, one step per minibatch) and prints, on 1,000
held-out transitions, the mean forward error (the raw bonus), the inverse loss (for 18
discrete actions ln 18 = 2.89 is chance; for continuous actions in [-1, 1] the squared
error of predicting 0 is 1/3) and phi's std across states (0 = phi is a constant: no bonus
can be left).

    python scripts/icm_phi_collapse.py --env atari/PrivateEye --steps 1500 --updates 400
    python scripts/icm_phi_collapse.py --preset pixmc --env pixmc/KukaReach --steps 300
    python scripts/icm_phi_collapse.py --preset debug --env dmc/cartpole_swingup --num-envs 4 \
        --steps 600 --set env.obs=pixels --set ppo.feature_dim=64   # DrQ-v2's stored embeddings
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from mimex.agents.ppo import PPOAgent
from mimex.config.overrides import resolve_config
from mimex.explore import make_explorer
from mimex.run.train import make_vec_env, seed_everything

VARIANTS = {"default (MLP phi, joint loss)": {}, "detach_forward": {"detach_forward": True},
            "release (linear phi, detach_forward)": {"detach_forward": True, "linear_encoder": True}}


def collect(preset: str, env: str, num_envs: int, steps: int, sets: list[str]
            ) -> tuple[torch.Tensor, torch.Tensor, int, bool]:
    """(obs_seq float[N, 2, D] = (z_t, z_t+1), actions [N, 2(, A)] with a_t at 0, action_dim, discrete)."""
    cfg = resolve_config(preset, {"env.name": env, "env.num_envs": num_envs, "explore.name": "icm",
                                  "explore.input": "features", "progress": False}, sets)
    seed_everything(0, True)
    envs = make_vec_env(cfg)
    agent = PPOAgent(cfg, envs, torch.device("cpu"))
    _, z = agent.pipeline(envs.reset(), update_stats=False)
    rng = np.random.default_rng(0)
    space = envs.single_action_space
    discrete = hasattr(space, "n")
    n = int(space.n) if discrete else int(space.shape[0])
    pairs, acts = [], []
    for _ in range(steps):
        if discrete:
            a = rng.integers(0, n, size=envs.num_envs)
        else:
            a = rng.uniform(-1, 1, size=(envs.num_envs, n)).astype(np.float32)
        res = envs.step(a)
        _, z_next = agent.pipeline(res.next_obs, update_stats=False)  # o_t+1, the final one where done
        pairs.append(torch.stack([z, z_next], 1))
        acts.append(torch.as_tensor(a))
        _, z = agent.pipeline(res.obs, update_stats=False)
    envs.close()
    a = torch.cat(acts)
    return torch.cat(pairs), torch.stack([a, torch.zeros_like(a)], 1), n, discrete


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="atari")
    ap.add_argument("--env", default="atari/PrivateEye")
    ap.add_argument("--num-envs", type=int, default=8)
    ap.add_argument("--steps", type=int, default=1500, help="vector steps to collect")
    ap.add_argument("--updates", type=int, default=400)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="config overrides, e.g. env.obs=pixels ppo.feature_dim=64")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.steps * args.num_envs <= 2000:
        ap.error(f"--steps x --num-envs = {args.steps * args.num_envs}: collect more than 2,000 transitions "
                 "(1,000 are held out)")
    x, a, n, discrete = collect(args.preset, args.env, args.num_envs, args.steps, args.set)
    g = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(x), generator=g)
    test, train = perm[:1000], perm[1000:]
    marks = sorted({1, 10, 50, 100, 200, args.updates} & set(range(1, args.updates + 1)))
    chance = f"{n} actions, chance inverse loss {np.log(n):.2f}" if discrete else f"{n}-d actions, inverse loss of predicting 0: 0.333"
    print(f"{args.env} ({args.preset} preset): {len(x)} transitions of a random policy, {chance}")
    for name, opts in VARIANTS.items():
        ex = make_explorer("icm", input_dim=x.shape[-1], action_dim=n, seed=0, **opts)
        print(f"{name}:")
        for step in range(1, args.updates + 1):
            idx = train[torch.randint(len(train), (512,), generator=g)]
            ex.reward(x[idx], actions=a[idx], update=True)
            if step in marks:
                inv = ex.last_metrics["explore/inverse_loss"]
                fwd = ex.reward(x[test], actions=a[test]).mean()
                with torch.no_grad():
                    phi_std = ex.model["encoder"](x[test][:, 0]).std(0).mean()
                print(f"  update {step:4d}: forward error {fwd:.2e}  inverse loss {inv:.3f}  phi std {phi_std:.2e}")


if __name__ == "__main__":
    main()
