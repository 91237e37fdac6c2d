"""Exception types and the error-message templates that tests match.

Messages are module constants so that tests can match them literally and users can grep
for them; each says what was wrong, the value that was received, and what to do.
"""

from __future__ import annotations

__all__ = [
    "MimexError",
    "ConfigError",
    "InputError",
    "CheckpointError",
    "RunLockedError",
    "ActionError",
    "ResetNeededError",
    "UNKNOWN_NAME",
    "UNKNOWN_OPTION",
    "BAD_SHAPE",
    "BAD_DTYPE",
    "NON_FINITE",
    "RUN_LOCKED",
    "RUN_DIR_UNUSABLE",
    "RUN_DIR_ARCHIVED",
    "ARCHIVE_FILE",
    "BAD_DEVICE",
    "DEVICE_UNAVAILABLE",
    "CHECKPOINT_UNREADABLE",
    "CHECKPOINT_DAMAGED",
    "THREADS_CHANGED",
    "SCHEDULE_STEPS_CHANGED",
    "CHECKPOINT_WRITE_FAILED",
    "BAD_EPISODES",
    "WEIGHTS_NON_FINITE",
    "ACTION_NON_FINITE",
    "ACTION_BAD_SHAPE",
    "ACTION_BAD_TYPE",
    "ACTION_OUT_OF_RANGE",
    "STEP_BEFORE_RESET",
    "STEP_AFTER_END",
    "OPTION_BAD_TYPE",
    "INPUT_TOO_LARGE",
]


class MimexError(Exception):
    """Base class of every error mimex raises on purpose."""


class ConfigError(MimexError, ValueError):
    """An invalid configuration: raised at construction, before any work is done."""


class InputError(MimexError, ValueError):
    """A call received data of the wrong shape, dtype or value."""


class ActionError(InputError):
    """An environment's ``step`` received an action it cannot run (NaN/inf, wrong shape or type)."""


class ResetNeededError(InputError):
    """An environment's ``step`` was called before ``reset`` or after its episode ended."""


class CheckpointError(MimexError, RuntimeError):
    """A checkpoint is missing, corrupt, or does not match the configuration."""


class RunLockedError(MimexError, RuntimeError):
    """Another process is writing the run directory."""


UNKNOWN_NAME = "unknown {kind} {name!r}; choose one of: {choices}"
UNKNOWN_OPTION = "unknown option(s) {names} for {kind}; valid options are: {choices}"
BAD_SHAPE = "{arg} must have shape {expected}, got {got}"
BAD_DTYPE = "{arg} must have dtype {expected}, got {got}{hint}"
NON_FINITE = "{arg} contains {count} non-finite value(s) (NaN or inf), first in batch row {row}"

# The run directory and its one writer.
RUN_LOCKED = ("run directory {run_dir} is in use by another mimex process ({owner}); wait for it "
              "to finish or stop it, or use another --run-dir")
RUN_DIR_UNUSABLE = "cannot use run directory {run_dir}: {reason}. Choose another --run-dir"
# The file that marks a folder as an archived record of a run (``mimex archive``): no checkpoint.
ARCHIVE_FILE = "archive.json"
RUN_DIR_ARCHIVED = ("run directory {run_dir} is an archived record of a run (it holds archive.json: "
                    "config, metrics and summary, no checkpoint), so it cannot be trained, resumed, "
                    "extended or evaluated. Train into another --run-dir (or sweep into another --root); to go on "
                    "with the run itself, use its original directory, which holds the checkpoint")
BAD_DEVICE = "unknown device {device!r} ({reason}); use cpu, cuda, cuda:N or mps"
DEVICE_UNAVAILABLE = "device {device!r} is not available on this machine ({reason}); use --device cpu"
# Checkpoints and exact resume.
CHECKPOINT_UNREADABLE = "cannot read checkpoint {path}: it may be truncated or corrupt. {advice}. Reason: {reason}"
CHECKPOINT_DAMAGED = ("checkpoint {path} is damaged: the bytes of {member!r} fail their CRC check, so "
                      "it would load wrong numbers. {advice}")
CHECKPOINT_WRITE_FAILED = ("could not write checkpoint {path} ({reason}; {free}): the disk may be full. "
                           "The run stopped; its directory keeps {kept} and the metrics logged so far. "
                           "Free disk space, then run the same command again to resume")
SCHEDULE_STEPS_CHANGED = (
    "the run in {run_dir} was started with steps={saved} and its ppo.lr_schedule / explore.beta_anneal "
    "span its steps: resuming with steps={now} would change its schedule part-way (lr jumps back up), so "
    "the result would be neither run. Resume with --steps {saved}, or pass --allow-inexact-resume to "
    "continue anyway; to make runs extendable, start them with ppo.schedule_steps set to the largest "
    "budget")
THREADS_CHANGED = ("the checkpoint in {run_dir} was written with {saved} torch CPU threads, this process "
                   "has {now} (threads={threads}, OMP_NUM_THREADS={omp}): the resumed run would not match "
                   "an uninterrupted one. Resume with --set threads={saved}, or pass "
                   "--allow-inexact-resume to accept different numbers")
COMPILE_FAILED = ("ppo.compile=true but torch.compile could not compile or run the PPO loss ({error}). It "
                  "needs a C++ compiler on CPU (gcc or clang) or Triton on CUDA; install one, or set ppo.compile=false "
                  "(the same update, eager)")
BAD_EPISODES = "--episodes must be >= 1, got {episodes}"
WEIGHTS_NON_FINITE = ("policy weights are not finite (NaN or inf) after the update at environment step "
                      "{step}: the update diverged (check ppo.lr and ppo.max_grad_norm)")
# Environment steps (every suite; see mimex.envs.action_checks).
ACTION_NON_FINITE = ("{env}: the action contains {count} non-finite value(s) (NaN or inf), first at "
                     "index {index}: {action}. The env's state is unchanged; check the policy's output "
                     "(a NaN action usually means diverged weights)")
ACTION_BAD_SHAPE = ("{env}: the action must have shape {expected} (action space {space}), got shape "
                    "{got}; pass one action per step for this env, not a batch or a flattened one")
ACTION_BAD_TYPE = "{env}: the action must be {expected} (action space {space}), got {got!r}"
ACTION_OUT_OF_RANGE = "{env}: the action must be an integer in [{low}, {high}] (action space {space}), got {got}"
STEP_BEFORE_RESET = "{env}: step() was called before reset(); call reset() first"
STEP_AFTER_END = ("{env}: step() was called after the episode ended ({how}); call reset() to start "
                  "the next episode")
# Explorer options and inputs.
OPTION_BAD_TYPE = "option {name!r} of {kind} must be {expected}, got {value!r} ({got})"
INPUT_TOO_LARGE = ("{arg} has values up to {biggest:.3g} in absolute value (first in batch row {row}); "
                   "explorers take |x| <= {bound:.0e}: larger values overflow float32 in the squared "
                   "errors and would poison the model. Normalise or clip the inputs first; nothing "
                   "was updated")
