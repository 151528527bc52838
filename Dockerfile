# One image for every Millrace process (README, "Scaling out"):
#   the app (default command): pages, REST API and websocket on port 3000;
#   a worker: python -m engine worker --concurrency 4 --tags flow,python3
#
# The frontend is built here, once, so that a container starts in seconds: at run time
# only the backend starts (granian, as `reflex run --env prod` would start it) and it
# serves the built pages itself. `reflex run --env prod` would rebuild them at every start.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# node and npm only install bun from npm, as the Makefile does (bun's postinstall runs
# under node); the final image has neither.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
RUN npm install --prefix .tools --no-audit --no-fund --silent bun@1.4.4
COPY . .
# The bundle has the backend's URL baked in. Reflex's frontend reads a localhost URL as
# "the page's own host": over http on port 3000, over https on the default port. So
# browse the app on port 3000 or over https, or build with this set to the public URL.
ARG REFLEX_API_URL=http://localhost:3000
# Reflex runs the frontend build with our bun, not one it downloads (see the Makefile);
# the packages the build installed are not needed to serve the bundle.
RUN PATH="/app/.tools/node_modules/.bin:$PATH" REFLEX_USE_SYSTEM_BUN=1 REFLEX_USE_NPM=0 \
        REFLEX_API_URL="$REFLEX_API_URL" \
        reflex export --frontend-only --no-zip --env prod \
    && rm -rf .web/node_modules

FROM ${PYTHON_IMAGE}
# bash runs Bash steps; bubblewrap is the scripts' sandbox (no script runs without it);
# tini is PID 1 so that SIGTERM reaches the process (a worker drains on it). A container
# that runs scripts needs user namespaces: see deploy/docker-compose.yml (security_opt)
# and deploy/k8s/worker.yaml (securityContext).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bash bubblewrap tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 millrace \
    && useradd --create-home --uid 10001 --gid 10001 millrace
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
# The code stays root's. The process may write only .web (Reflex writes markers there at
# start, such as .web/backend/upload_is_used) and data/ (SQLite and the generated secret
# key when DATABASE_URL and MILLRACE_SECRET_KEY are unset: fine for one container only).
RUN mkdir -p data && chown -R 10001:10001 .web data
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
# The __REFLEX_* variables are Reflex's own switches for a backend that serves an
# already built frontend; tests/app/server.py starts the app the same way.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    REFLEX_ENV_MODE=prod \
    __REFLEX_SKIP_COMPILE=true \
    __REFLEX_MOUNT_FRONTEND_COMPILED_APP=true
EXPOSE 3000
ENTRYPOINT ["tini", "--"]
CMD ["python", "-m", "granian", "--interface", "asgi", "--factory", "--host", "0.0.0.0", "--port", "3000", "app.app:app"]
