# reconciler as a container: pinned base, hashed dependencies, numeric non-root user, entrypoint
# `reconciler`. The build downloads nothing but the Python packages requirements.lock pins.
#
# The base is pinned by tag and by the digest of that tag's multi-platform index as recorded by
# docker-library/repo-info (repos/python/remote/3.11.16-slim-bookworm.md, commit 422f3cfe488d):
# a tag can be pushed again, a digest cannot. Python 3.11 because requirements.lock is resolved
# for it. .ci/build-image passes --build-arg BASE=<a debootstrapped bookworm> where no registry
# can be reached; the steps below work on both.
ARG BASE=python:3.11.16-slim-bookworm@sha256:c425d915a89a6dcd3183b1797ad9bd8878caff5a417f6371c8df93c8ea8b727f
FROM ${BASE}

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The python image ships its standard library without bytecode and user 10001 cannot write it
# there, so every start would compile json, argparse, logging, ... again: compile it once here
# (the parts a CLI never imports left out). The user has no home; the request cache gets a
# directory of its own instead (a volume mounted there keeps it between runs).
RUN python3 -m venv /opt/reconciler \
    && python3 -m compileall -q -j 0 -x '/(idlelib|tkinter|turtledemo|lib2to3|ensurepip)/' \
        "$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')" \
    && useradd --no-log-init --uid 10001 --user-group --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin reconciler \
    && install -d -m 0700 -o 10001 -g 10001 /var/cache/reconciler

ENV VIRTUAL_ENV=/opt/reconciler \
    PATH=/opt/reconciler/bin:$PATH \
    RECONCILER_CACHE_DIR=/var/cache/reconciler

WORKDIR /usr/src/reconciler
# Dependencies first, in their own layer: a change to the code does not download them again.
# pip compiles every module it installs (no --no-compile), so start-up never compiles, and the
# venv stays root's: the user who runs the tool cannot change it.
COPY requirements.lock ./
RUN python -m pip install --require-hashes --only-binary=:all: -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY reconciler ./reconciler
COPY schemas ./schemas
COPY examples ./examples
RUN python -m pip install --no-deps --no-build-isolation --no-index .

USER 10001:10001
WORKDIR /work
ENTRYPOINT ["reconciler"]
CMD ["--help"]
