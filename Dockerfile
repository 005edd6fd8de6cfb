# tracker: one image for both processes.
#   docker build -t tracker:local .
#   web:    docker run --init -p 5000:5000 -v tracker-instance:/data/instance -v tracker-rules:/data/rules tracker:local
#   worker: docker run --init -v tracker-instance:/data/instance -v tracker-rules:/data/rules tracker:local tracker worker
# (docker-compose.yml runs both; see there.) Mount named volumes at /data/instance and /data/rules:
# on their first use Docker fills an empty named volume from the image, so the instance starts
# with an empty sources.yaml (+ sources.example.yaml) and the rules volume with the starter rules.
# A bind mount is not filled: copy rules/ and a sources.yaml in yourself, writable by uid 1000.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TRACKER_INSTANCE=/data/instance \
    TRACKER_RULES=/data/rules

# uid/gid 1000: the usual first user on a host, so bind-mounted folders are easy to share.
RUN groupadd --system --gid 1000 tracker \
    && useradd --system --uid 1000 --gid tracker --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin tracker

# The package without test extras. Every native dependency ships manylinux wheels for CPython
# 3.11, so no compiler is needed. tzdata: slim images have no /usr/share/zoneinfo, and the
# schedules and digests need Asia/Shanghai (zoneinfo falls back to the tzdata package).
WORKDIR /app
# The same pinned versions as `make run` and CI (requirements.lock, made by `make lock`).
COPY pyproject.toml README.md requirements.lock ./
COPY tracker ./tracker
RUN pip install --no-cache-dir -r requirements.lock \
    && pip install --no-cache-dir --no-deps . tzdata \
    && rm -rf build tracker.egg-info

# The starter rules and an instance folder owned by the service's user (a named volume mounted
# here inherits this ownership and content when it is created).
COPY --chown=tracker:tracker rules/ /data/rules/
COPY --chown=tracker:tracker sources.example.yaml /data/instance/sources.example.yaml
RUN printf '%s\n' \
      '# No sources yet: copy entries from sources.example.yaml, then `tracker sources check`.' \
      '# The worker re-reads this file when it changes.' \
      'sources: []' > /data/instance/sources.yaml \
    && chown -R tracker:tracker /data

USER tracker
WORKDIR /data
VOLUME ["/data/instance"]
EXPOSE 5000

# slim has no curl: Python's urllib. A non-2xx answer (503: database unreachable) raises: unhealthy.
# The worker's container overrides this check (docker-compose.yml): it serves no HTTP.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/healthz', timeout=4)"]

# waitress installs no SIGTERM handler, and a PID 1 ignores signals it does not handle: stop with
# SIGINT, which both waitress (KeyboardInterrupt) and the worker (its handler) stop on.
STOPSIGNAL SIGINT
CMD ["tracker", "serve", "--host", "0.0.0.0", "--port", "5000"]
