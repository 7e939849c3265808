"""Benchmark settings: the production settings unchanged, plus a urlconf that adds the baseline
view. The harness supplies SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL through the
environment; clients send `X-Forwarded-Proto: https` as the TLS-terminating proxy would."""

from __future__ import annotations

from careerrelay.settings.production import *  # noqa: F403
from careerrelay.settings.production import env

ROOT_URLCONF = "bench.urls"

# The harness waits for the settlement task's result, so Celery needs somewhere to put it.
CELERY_RESULT_BACKEND = env("BENCH_RESULT_BACKEND", default=REDIS_URL or None)  # noqa: F405
CELERY_RESULT_EXPIRES = 3600

# The benchmark's load comes from one address, standing for thousands of candidates: the
# production per-address flood limit on the landing page (FloodLimitMiddleware) stays on, so its
# per-request counter is part of the measured cost, but with a limit that load cannot reach.
CLICK_FLOOD_PER_MINUTE = env.int("CLICK_FLOOD_PER_MINUTE", default=1_000_000_000)
