# GPU image of sept_ray for Ray clusters (cluster/cluster.yaml; guide: docs/CLUSTER.md).
#
#   docker build -t sept-ray:0.1.0 .
#   docker run --rm --gpus all sept-ray:0.1.0 python -c "import torch; print(torch.cuda.is_available())"
#
# torch from PyPI is a CUDA build on Linux x86_64 (torch 2.13.0: CUDA 13, which needs NVIDIA driver
# >= 580 on the host). The wheel brings its own CUDA libraries, so the base image needs no CUDA
# toolkit: the host needs only the driver and the NVIDIA container toolkit (`--gpus all`). For an
# older driver, build with e.g. --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126
# (if that index carries TORCH_VERSION).
#
# The project is installed editable from /opt/sept_ray (also on PYTHONPATH, so `sweeps` imports),
# into the image's own Python, which every shell finds, login shells included (Ray's cluster
# launcher runs its commands in login shells, whose /etc/profile resets PATH).
FROM python:3.11.11-slim-bookworm

ARG TORCH_VERSION=2.13.0
ARG RAY_VERSION=2.60.0
ARG TORCH_INDEX_URL=https://pypi.org/simple

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    RAY_USAGE_STATS_ENABLED=0 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    PYTHONPATH=/opt/sept_ray

# libsndfile1: soundfile; openssh-client and rsync: Ray's cluster launcher (the head's autoscaler
# reaches the workers over ssh, file mounts enter containers by rsync); procps: ps for debugging.
# Debian package versions are not pinned: they follow the pinned base image's bookworm release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsndfile1 openssh-client procps rsync \
    && rm -rf /var/lib/apt/lists/*

# A non-root user with uid 1000: the owner of files it writes on shared storage (NFS) matches the
# default user (ubuntu, uid 1000) of the cluster hosts.
RUN useradd --create-home --uid 1000 --shell /bin/bash ray \
    && mkdir -p /home/ray/.ray /mnt/shared /opt/sept_ray \
    && chown ray:ray /home/ray/.ray /mnt/shared /opt/sept_ray

# Heavy, slow-changing layers first: torch, then Ray (the same version as the machine running
# `ray up`), boto3 (the head's AWS autoscaler) and psycopg (MLflow's PostgreSQL backend store).
RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}" \
    && pip install "ray[default,tune]==${RAY_VERSION}" "boto3==1.44.8" "psycopg[binary]==3.3.9"

# The project's dependencies from pyproject.toml alone, so that a code change reuses this layer.
WORKDIR /opt/sept_ray
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY --chown=ray:ray . .
RUN pip install --no-deps -e . \
    && python -c "import sept_ray, sweeps, ray, torch, mlflow, psycopg"

# HOME in the image's environment: Ray's cluster launcher reads it there to place `~/...` file
# mounts (it assumes /root otherwise). USER is numeric so that the host resolves it too: the user
# `ray` created above.
ENV HOME=/home/ray
USER 1000:1000
CMD ["bash"]
