"""The background workers' loop (faults.keep_running): busy steps run again at once, idle ones wait, a failing step
is retried with doubling back-off, and the log says so once when it starts failing and once when it recovers."""

from __future__ import annotations

import asyncio
import logging

import pytest
from mynumber_runtime import faults
from mynumber_runtime.faults import keep_running


class DatabaseDown(Exception):
    pass


async def test_back_off_doubles_to_its_ceiling_logs_once_each_way_and_busy_steps_rerun_at_once(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    stop = asyncio.Event()
    timeline: list[object] = []  # steps ("step") and rests (their seconds), in order

    async def rest(_: asyncio.Event, seconds: float) -> None:
        timeline.append(seconds)

    monkeypatch.setattr(faults, "_rest", rest)
    # What each step does: fail 5 times, then have work twice (busy), then be idle, fail once more, recover.
    script: list[object] = [DatabaseDown("password=secret"), *[DatabaseDown()] * 4, True, True, False,
                            DatabaseDown(), False]
    failures = 0

    async def step() -> bool:
        timeline.append("step")
        outcome = script.pop(0)
        if not script:
            stop.set()
        if isinstance(outcome, Exception):
            raise outcome
        assert isinstance(outcome, bool)
        return outcome

    def failed() -> None:
        nonlocal failures
        failures += 1

    log = logging.getLogger("test.keep_running")
    with caplog.at_level(logging.INFO, logger="test.keep_running"):
        await asyncio.wait_for(keep_running(step, stop, log=log, what="relay east: publishing fails", idle_s=5.0,
                                            backoff_initial_s=1.0, backoff_max_s=6.0, on_failure=failed), 10)
    assert timeline == ["step", 1.0, "step", 2.0, "step", 4.0, "step", 6.0, "step", 6.0,  # doubled, capped
                        "step", "step",  # busy: again at once
                        "step", 5.0,  # idle
                        "step", 1.0,  # a new fault starts from the initial back-off again
                        "step", 5.0]
    assert failures == 6
    lines = [(r.levelname, r.getMessage().split(" after ")[0]) for r in caplog.records]
    assert lines == [("WARNING", "relay east: publishing fails (DatabaseDown); retried with back-off"),
                     ("INFO", "relay east: working again"),
                     ("WARNING", "relay east: publishing fails (DatabaseDown); retried with back-off"),
                     ("INFO", "relay east: working again")]
    assert "secret" not in caplog.text  # types only


async def test_an_idle_step_waits_and_a_stop_ends_the_wait_at_once() -> None:
    stop = asyncio.Event()
    calls = 0

    async def step() -> bool:
        nonlocal calls
        calls += 1
        return False

    task = asyncio.create_task(keep_running(step, stop, log=logging.getLogger("t"), what="w: fails", idle_s=30.0,
                                            backoff_initial_s=1.0, backoff_max_s=1.0))
    await asyncio.sleep(0.2)
    assert calls == 1  # waiting its idle interval, not spinning
    stop.set()
    await asyncio.wait_for(task, 1.0)
