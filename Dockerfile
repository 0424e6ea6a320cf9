# syntax=docker/dockerfile:1.7
# Parley API image: `docker build -t parley .` then see compose.yaml for the full topology.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/parley && /opt/parley/bin/pip install .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/parley/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PARLEY_ENV=production \
    PARLEY_HOST=0.0.0.0 \
    PARLEY_PORT=8000 \
    PARLEY_DATA_DIR=/var/lib/parley
RUN groupadd --system parley && useradd --system --gid parley --home /var/lib/parley parley \
    && mkdir -p /var/lib/parley && chown parley:parley /var/lib/parley
COPY --from=build /opt/parley /opt/parley
USER parley
WORKDIR /var/lib/parley
VOLUME ["/var/lib/parley"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status == 200 else 1)"
CMD ["parley", "serve"]
