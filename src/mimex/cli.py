"""The ``mimex`` command: train, eval, check-env, sweep, plot, report (bench and
pretrain-encoder are reserved names, not available in this version)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mimex.envs.headless import choose_gl  # noqa: E402

choose_gl()

from mimex.errors import ConfigError, MimexError  # noqa: E402

RESERVED = ("bench", "pretrain-encoder")


def _train_parser(sub: Any) -> None:
    from mimex.config.overrides import field_docs
    from mimex.config.presets import PRESETS

    keys = "\n".join(f"  {k} = {d!r}\n      {h}" for k, d, h in field_docs())
    p = sub.add_parser(
        "train", help="train an agent (resumes when the run directory holds a checkpoint)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"presets: {', '.join(PRESETS)}\n\nconfig keys for --set (key = default):\n{keys}",
    )
    p.add_argument("--env", help="task name, e.g. toy/Corridor, pixmc/FrankaReach, dmc/cartpole_swingup_sparse")
    p.add_argument("--reward", help="reward level: dense, sparse, sparser (pixmc)")
    p.add_argument("--obs", help="observation kind: state, pixels, pixels+state")
    p.add_argument("--agent", help="backbone: ppo (on-policy) or drqv2 (off-policy, continuous actions)")
    p.add_argument("--explore", help="bonus: mimex, icm, rnd, none")
    p.add_argument("--steps", type=int, help="total environment steps")
    p.add_argument("--seed", type=int)
    p.add_argument("--run-dir", required=True, help="run directory (resumed when it holds a checkpoint)")
    p.add_argument("--preset", help=f"named preset: {', '.join(PRESETS)}")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config key (repeatable), e.g. --set explore.mimex.n_masks=5")
    p.add_argument("--device", help="torch device, e.g. cpu or cuda")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--allow-inexact-resume", action="store_true",
                   help="resume even with other CPU thread settings than the checkpoint's "
                        "(the continuation then differs from an uninterrupted run)")


def cmd_train(a: argparse.Namespace) -> int:
    from mimex.config.migrate import upgrade_config
    from mimex.config.overrides import apply_overrides, resolve_config
    from mimex.config.schema import RunConfig, from_dict
    from mimex.run.train import train

    flags = {"env.name": a.env, "env.reward": a.reward, "env.obs": a.obs, "agent": a.agent,
             "explore.name": a.explore, "steps": a.steps, "seed": a.seed, "run_dir": a.run_dir,
             "device": a.device}
    flags = {k: v for k, v in flags.items() if v is not None}
    if a.no_progress:
        flags["progress"] = False
    saved = Path(a.run_dir) / "config.json"
    if saved.exists() and a.preset is None and not a.sets and set(flags) <= {"run_dir", "steps", "progress", "device"}:
        try:  # `mimex train --run-dir D` resumes D as it was
            data = json.loads(saved.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read {saved} ({exc}); pass the run's settings (--env, "
                              "--preset, --set) to use this directory") from None
        cfg = from_dict(RunConfig, apply_overrides(upgrade_config(data), flags))
    else:
        cfg = resolve_config(a.preset, flags, a.sets)
    summary = train(cfg, allow_inexact_resume=a.allow_inexact_resume)
    if "stopped_by_signal" in summary:
        print(f"stopped at step {summary['step']}; checkpoint saved. Run the same command to resume.")
        return 128 + int(summary["stopped_by_signal"])
    _print_table("run summary", summary)
    return 0


def cmd_eval(a: argparse.Namespace) -> int:
    from mimex.run.evaluate import evaluate

    _print_table("evaluation", evaluate(a.run_dir, a.episodes, a.device))
    return 0


def cmd_check_env(a: argparse.Namespace) -> int:
    from mimex.envs import env_spec, list_envs
    from mimex.envs.check import check_env

    if a.list or not a.name:
        for name in list_envs(a.tag):
            print(name)
        return 0
    spec = env_spec(a.name)
    rewards = [a.reward] if a.reward else (list(spec.rewards) if a.all else [None])
    kinds = [a.obs] if a.obs else (list(spec.obs) if a.all else [spec.default_obs or spec.obs[0]])
    for reward in rewards:
        for obs in kinds:
            kwargs: dict[str, Any] = {"obs": obs}
            if reward is not None:
                kwargs["reward"] = reward
            passed = check_env(a.name, n_steps=a.steps, seed=a.seed, **kwargs)
            print(f"{a.name} reward={reward} obs={obs}: OK ({len(passed)} checks: {'; '.join(passed)})")
    return 0


def _print_table(title: str, data: dict[str, Any]) -> None:
    width = max(len(k) for k in data)
    print(f"\n{title}\n" + "-" * (width + 20))
    for k, v in data.items():
        print(f"{k:<{width}}  {v:.4g}" if isinstance(v, float) else f"{k:<{width}}  {v}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mimex", description="Exploration with masked input modeling.")
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub)
    e = sub.add_parser("eval", help="evaluate a run's checkpoint with the greedy policy")
    e.add_argument("--run-dir", required=True)
    e.add_argument("--episodes", type=int, default=10)
    e.add_argument("--device", default="cpu")
    c = sub.add_parser("check-env", help="run the environment checker on a task")
    c.add_argument("name", nargs="?")
    c.add_argument("--reward")
    c.add_argument("--obs")
    c.add_argument("--all", action="store_true", help="every reward level and observation kind")
    c.add_argument("--steps", type=int, default=50)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--list", action="store_true", help="list registered tasks")
    c.add_argument("--tag", help="with --list: only tasks with this tag")
    from mimex.cli_experiments import add_parsers

    add_parsers(sub)
    for name in RESERVED:
        sub.add_parser(name, help="not available in this version")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in RESERVED:
        print(f"mimex {args.command}: not available in this version of mimex", file=sys.stderr)
        return 2
    from mimex.cli_experiments import HANDLERS

    handlers = {"train": cmd_train, "eval": cmd_eval, "check-env": cmd_check_env, **HANDLERS}
    try:
        return handlers[args.command](args)
    except MimexError as exc:
        print(f"mimex {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except FloatingPointError as exc:
        print(f"mimex {args.command}: stopped: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
