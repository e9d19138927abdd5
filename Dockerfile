# reconciler as a container: small, pinned base, non-root, entrypoint `reconciler`.
# Build steps download nothing but Python packages.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/reconciler
COPY pyproject.toml README.md ./
COPY reconciler ./reconciler
COPY schemas ./schemas
RUN python -m pip install --no-compile . \
    && useradd --create-home --uid 10001 reconciler

USER reconciler
WORKDIR /work
ENTRYPOINT ["reconciler"]
CMD ["--help"]
