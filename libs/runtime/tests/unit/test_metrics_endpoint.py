"""The /metrics listener and the gauges fed by queries, without any server behind them."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest
from mynumber_runtime import metrics as metrics_module
from mynumber_runtime.metrics import MetricsServer, Snapshots, labelled
from mynumber_runtime.settings import MetricsSettings
from prometheus_client.parser import text_string_to_metric_families


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, "", ""


def gauge(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(s.labels.items())): s.value for f in text_string_to_metric_families(text)
            for s in f.samples if s.name == name}


async def test_metrics_are_served_on_loopback_only_at_their_path_and_stop_with_the_server():
    server = MetricsServer(MetricsSettings())  # the default: 127.0.0.1, any free port
    port = await server.start()
    assert server._server is not None and server._server.sockets[0].getsockname()[0] == "127.0.0.1"
    status, ctype, _ = await asyncio.to_thread(get, f"http://127.0.0.1:{port}/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    assert (await asyncio.to_thread(get, f"http://127.0.0.1:{port}/"))[0] == 404
    await server.stop()
    with pytest.raises(urllib.error.URLError):
        await asyncio.to_thread(get, f"http://127.0.0.1:{port}/metrics")


async def test_a_gauge_shows_its_last_query_and_keeps_it_while_the_query_fails():
    state = {"rows": {"active": 2, "retired": 1}, "fail": False}

    async def count() -> dict[str, int]:
        if state["fail"]:
            raise ConnectionError("database down")
        return dict(state["rows"])

    snaps = Snapshots(interval_s=0.01)
    snaps.add("mynumber.test.things", labelled("status", count))
    server = MetricsServer(MetricsSettings())
    port = await server.start()
    stop = asyncio.Event()
    task = asyncio.create_task(snaps.run(stop))
    try:
        async def scraped() -> dict[tuple[tuple[str, str], ...], float]:
            return gauge((await asyncio.to_thread(get, f"http://127.0.0.1:{port}/metrics"))[2], "mynumber_test_things")

        async def until(expected: dict[tuple[tuple[str, str], ...], float]) -> None:
            for _ in range(200):
                if await scraped() == expected:
                    return
                await asyncio.sleep(0.01)
            raise AssertionError(await scraped())

        await until({(("status", "active"),): 2.0, (("status", "retired"),): 1.0})
        state["rows"]["active"] = 5
        await until({(("status", "active"),): 5.0, (("status", "retired"),): 1.0})
        state["fail"] = True
        before = snaps.refreshes
        while snaps.refreshes < before + 3:
            await asyncio.sleep(0.01)
        assert await scraped() == {(("status", "active"),): 5.0, (("status", "retired"),): 1.0}
    finally:
        stop.set()
        await task
        await server.stop()
    # A stopped service's values do not linger in the process.
    assert snaps not in metrics_module._live
