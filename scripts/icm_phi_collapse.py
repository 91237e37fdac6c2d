"""Does ICM's learned feature phi survive on Atari's frozen image features? (docs/results.md)

Collects transitions of a uniform random policy on an Atari game (the `atari` preset's
observation pipeline: 4 stacked 84x84 frames through the frozen random CNN, standardised,
512-d), then trains three ICM variants offline on minibatches of 512 (as PPO's explorer
does, one step per minibatch) and prints, on 1,000 held-out transitions, the mean forward
error (the raw bonus), the inverse loss (ln 18 = 2.89 is chance over 18 actions) and phi's
std across states (0 = phi is a constant: no bonus can be left).

    python scripts/icm_phi_collapse.py --game PrivateEye --steps 1500 --updates 400
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


def collect(game: str, steps: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(obs_seq float[N, 2, 512] = (z_t, z_t+1), actions int64[N, 2] with a_t at 0, n_actions)."""
    cfg = resolve_config("atari", {"env.name": f"atari/{game}", "explore.name": "icm", "progress": False}, [])
    seed_everything(0, True)
    envs = make_vec_env(cfg)
    agent = PPOAgent(cfg, envs, torch.device("cpu"))
    _, z = agent.pipeline(envs.reset(), update_stats=False)
    rng = np.random.default_rng(0)
    n = int(envs.single_action_space.n)
    pairs, acts = [], []
    for _ in range(steps):
        a = rng.integers(0, n, size=envs.num_envs)
        res = envs.step(a)
        _, z_next = agent.pipeline(res.next_obs, update_stats=False)  # o_t+1, the final one where done
        pairs.append(torch.stack([z, z_next], 1))
        acts.append(torch.as_tensor(a))
        _, z = agent.pipeline(res.obs, update_stats=False)
    envs.close()
    a = torch.cat(acts)
    return torch.cat(pairs), torch.stack([a, torch.zeros_like(a)], 1), n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--game", default="PrivateEye")
    ap.add_argument("--steps", type=int, default=1500, help="vector steps of 8 envs to collect")
    ap.add_argument("--updates", type=int, default=400)
    args = ap.parse_args()
    torch.set_num_threads(1)
    x, a, n = collect(args.game, args.steps)
    g = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(x), generator=g)
    test, train = perm[:1000], perm[1000:]
    marks = sorted({1, 10, 50, 100, 200, args.updates} & set(range(1, args.updates + 1)))
    print(f"{args.game}: {len(x)} transitions of a random policy, {n} actions (chance inverse loss {np.log(n):.2f})")
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
