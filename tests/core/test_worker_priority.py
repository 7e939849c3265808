"""The Celery worker lowers its own CPU priority below the web processes' (lower_cpu_priority):
checked in a child process of its own session, as a supervisor starts the worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, os, sys
from pathlib import Path
from careerrelay.celery import lower_cpu_priority
lower_cpu_priority(int(sys.argv[1]))
group = Path("/proc/self/autogroup")
print(json.dumps({
    "nice": os.getpriority(os.PRIO_PROCESS, 0),
    "autogroup": group.read_text() if group.exists() else None,
}))
"""


def _probe(nice: int, *, own_session: bool = True, start_nice: int = 0) -> dict:
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", PROBE, str(nice)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=own_session,
        preexec_fn=(lambda: os.nice(start_nice)) if start_nice else None,
        check=True,
    )
    return json.loads(result.stdout)


def test_the_worker_runs_at_the_configured_nice_value_and_its_session_group_too() -> None:
    seen = _probe(10)
    assert seen["nice"] == 10
    if seen["autogroup"] is not None:  # a kernel with autogroup scheduling
        assert seen["autogroup"].split()[-1] == "10"


def test_a_worker_sharing_its_session_leaves_the_session_group_alone() -> None:
    # Started from a shell or a process manager together with the web processes: lowering the
    # session group's priority would lower theirs too.
    seen = _probe(10, own_session=False)
    assert seen["nice"] == 10
    if seen["autogroup"] is not None:
        mine = Path("/proc/self/autogroup").read_text()
        assert seen["autogroup"] == mine


@pytest.mark.parametrize("nice", [0, -5])
def test_zero_or_less_changes_nothing(nice: int) -> None:
    assert _probe(nice)["nice"] == 0


def test_a_nicer_start_is_kept() -> None:
    assert _probe(5, start_nice=15)["nice"] == 15


def test_the_setting_defaults_to_background_priority(settings) -> None:
    assert settings.WORKER_NICE == 10
