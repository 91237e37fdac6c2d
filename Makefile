# Two commands set up a fresh machine and do the work:
#   make run    install everything, then compare PPO+MIMEx with PPO alone on a sparse task (2 seeds each, a few minutes)
#   make test   install everything, then run the default test suite (< 15 min on 2 cores)
# Also: make test-slow (learning tests), make bench (benchmarks), make lint.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# A CPU build of torch lies on this machine's disk; elsewhere pip fetches the normal build.
TORCH ?= torch==2.13.0
export MUJOCO_GL ?= egl
export PYOPENGL_PLATFORM ?= egl

.PHONY: install run test test-slow bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[all,dev]"
	touch $(STAMP)

# make run: MIMEx vs no bonus on the sparse corridor, 2 seeds each (mimex sweep demo), then the
# report table and the plot. Rerunning skips finished runs and resumes interrupted ones.
run: $(STAMP)
	$(VENV)/bin/mimex sweep demo --workers 2 --root runs
	$(VENV)/bin/mimex report runs/demo --metric charts/success_rate
	$(VENV)/bin/mimex plot runs/demo --metric charts/success_rate --out runs/demo/plots

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(STAMP)
	$(PY) benchmarks/bench_explorers.py --markdown
	$(PY) benchmarks/bench_training.py --pixel-env pixmc/FrankaReach --pixel-obs pixels+state --markdown
	$(PY) benchmarks/bench_pixmc.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
