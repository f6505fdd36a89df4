# DataDSN image: the portal (`serve --prod`, gunicorn + WhiteNoise) and the monthly chain, from
# the locked environment (uv.lock). Build: `docker build -t datadsn .` (or `podman build`), or
# without Docker Hub scripts/build-image.sh (base made by debootstrap from Debian's mirror);
# run with compose.yaml (PostgreSQL, portal, scheduler). See docs/deploiement.md.
# BASE: any Debian bookworm image with Python 3.11 and pip; scripts/build-image.sh passes one
# made by debootstrap from Debian's mirror where Docker Hub is out of reach.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/datadsn/.venv \
    DATADSN_HOME=/var/lib/datadsn \
    PATH=/opt/datadsn/.venv/bin:$PATH

# uv at the version the Makefile pins; dependencies first so that a code change reuses the layer.
RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /opt/datadsn
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src ./src
COPY scripts/datadsn-entrypoint.sh /usr/local/bin/datadsn-entrypoint.sh
RUN uv sync --frozen --no-dev \
    && useradd --system --uid 10001 --home-dir /var/lib/datadsn datadsn \
    && mkdir -p /var/lib/datadsn && chown datadsn /var/lib/datadsn

USER datadsn
VOLUME /var/lib/datadsn
EXPOSE 8000
ENTRYPOINT ["datadsn-entrypoint.sh"]
CMD ["portal"]
