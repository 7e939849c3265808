"""`make bench` works end to end: at the smallest scale it starts its own stack (Redis,
PostgreSQL database, gunicorn, Celery worker), measures everything and writes every key of the
results table with a number. No timing is asserted here: figures belong to `make bench`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
KEYS = (
    "landing_rps_ratio",
    "landing_p99_ratio",
    "clicks_lost",
    "ingest_vs_copy_ratio",
    "register_p95_ms",
    "dashboard_scaling_ratio",
    "dashboard_queries_small",
    "dashboard_queries_large",
    "qualify_p95_ms",
    "settle_seconds_100k",
    "statement_pdf_ms",
    "settle_rerun_ratio",
    "web_rss_mb",
    "worker_rss_mb",
)


@pytest.mark.slow
def test_bench_at_smallest_scale_writes_every_key_with_a_number(tmp_path: Path) -> None:
    if not settings.USING_POSTGRES:
        pytest.skip("the benchmark creates its own database on a PostgreSQL server")
    for tool in ("wrk", "redis-server"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (.ci/run installs it)")
    output = tmp_path / "results.json"
    env = {
        **os.environ,
        "BENCH_SCALE": "0.01",
        # The minimum: this run proves every phase works, it measures nothing.
        "BENCH_ROUNDS": "3",
        "BENCH_OUTPUT": str(output),
        "BENCH_DB_NAME": f"cr_bench_smoke_{os.getpid()}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        # SIGTERM lets the harness stop the gunicorn, worker and Redis it started.
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=60)
        pytest.fail(f"the benchmark did not finish in 15 minutes:\n{stdout[-4000:]}")
    log = stdout[-4000:] + stderr[-4000:]
    assert output.exists(), log
    results = json.loads(output.read_text())
    assert results["errors"] == {}, log
    for key in KEYS:
        value = results[key]
        assert isinstance(value, int | float), f"{key} = {value!r}\n{log}"
        assert not isinstance(value, bool), key
    # The exactly-once proofs ride along: no click lost in the burst with a worker killed
    # mid-drain, every qualification counted, every rebate posted once.
    assert results["clicks_lost"] == 0
    assert results["details"]["burst"]["stored"] == results["details"]["burst"]["answered_200"]
    assert results["details"]["qualify"]["ledger_exact"] is True
    settlement = results["details"]["settlement"]
    assert settlement["rebates_posted"] == settlement["placements"]
    assert settlement["rebate_jpy"] == settlement["rebate_jpy_expected"]
    assert results["dashboard_queries_small"] == results["dashboard_queries_large"]
    assert proc.returncode == 0, log
