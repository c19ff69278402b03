"""The chart page in headless Chromium: candles drawn, then a webhook alert's fill marker and
its new position appear, through real router, executor and gateway processes, and the
position, once a second alert closed it, stays listed as a closed trade. The page
opens from the link with the viewer token (as `eaflow run` prints it), not without."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import redis

from model.tick import Tick, encode_tick
from tests.e2e.browser import wait_for
from tests.e2e.conftest import PREFIX, seed
from tests.e2e.workers import Worker
from tests.redis_server import free_port
from tests.tools import needs

pytestmark = needs("chromium", "chromedriver")
VIEWER = "chart-viewer-token-0123456789"
# Recorded EURUSD bids (Lean/OANDA 2014-05-06): seconds alternate up and down candles.
UP, DOWN = (1.38742, 1.38749), (1.38751, 1.38744)
CANDLE_PIXELS = """
const colors = {up: [38, 166, 154], down: [239, 83, 80]};
const canvases = [...document.querySelectorAll('#chart canvas')];
const pane = canvases.reduce((a, b) => (a.width * a.height >= b.width * b.height ? a : b));
const data = pane.getContext('2d').getImageData(0, 0, pane.width, pane.height).data;
const found = {up: 0, down: 0};
for (let i = 0; i < data.length; i += 4) {
  for (const [name, [r, g, b]] of Object.entries(colors)) {
    if (Math.abs(data[i] - r) < 4 && Math.abs(data[i + 1] - g) < 4
        && Math.abs(data[i + 2] - b) < 4) found[name]++;
  }
}
return found;
"""


def tick(msc: int, bid: float) -> bytes:
    return encode_tick(
        Tick(
            time=msc // 1000,
            bid=bid,
            ask=round(bid + 0.00013, 5),
            last=0.0,
            volume=0,
            time_msc=msc,
            flags=6,
            volume_real=0.0,
        )
    )


class Market:
    """EURUSD ticks: 30 s of history, then 4 ticks a second until stopped."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def second(self, start_ms: int, second: int) -> None:
        first, last = UP if second % 2 else DOWN
        for k, bid in enumerate((first, (first + last) / 2, last)):
            self.client.xadd(f"{PREFIX}ticks:EURUSD", {"d": tick(start_ms + k * 250, bid)})

    def run(self) -> None:
        now = int(time.time())
        for n in range(30, 0, -1):
            self.second((now - n) * 1000, now - n)
        while not self.stop.wait(0.25):
            msc = int(time.time() * 1000)
            first, last = UP if (msc // 1000) % 2 else DOWN
            bid = first if msc % 1000 < 500 else last
            self.client.xadd(f"{PREFIX}ticks:EURUSD", {"d": tick(msc, bid)})

    def __enter__(self) -> Market:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(5)


def gateway_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"gateway at {url} did not start within {timeout}s")


def test_candles_then_a_webhook_fill_marker_and_position(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker], chromium: Any
) -> None:
    seed(redis_url, 1)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with Market(redis_client):
        env = {"EAFLOW_HTTP_PORT": str(port), "EAFLOW_GATEWAY_VIEWER_TOKEN": VIEWER}
        worker = workers("rtss", "orders", "gateway", env=env)
        gateway_up(url)
        assert worker.alive
        page = "/?symbol=EURUSD&instance=demo-1&resolution=1S"
        chromium.get(url + page)  # without the token: no chart, no data
        assert chromium.execute_script("return window.eaflow === undefined")
        assert "viewer token" in chromium.find_element("tag name", "body").text
        chromium.get(f"{url}{page}&token={VIEWER}")  # the printed link
        assert chromium.current_url == url + page  # the token left the address bar
        wait_for(chromium, "return window.eaflow && window.eaflow.ready")
        assert wait_for(chromium, "return window.eaflow.series.data().length") >= 20
        pixels = wait_for(
            chromium,
            f"const p = (() => {{{CANDLE_PIXELS}}})();return p.up > 50 && p.down > 50 && p",
        )
        assert pixels["up"] > 50 and pixels["down"] > 50
        assert (
            chromium.execute_script(
                "return document.querySelectorAll('#positions tbody tr').length"
            )
            == 0
        )

        source = orjson.loads(redis_client.hget(f"{PREFIX}sources", "tradingview") or b"{}")
        alert = f"tradingview,buy,EURUSD,vol_lots=0.1,instance=demo-1,secret={source['secret']}"
        answer = httpx.post(f"{url}/webhook/tradingview", content=alert, timeout=5)
        assert answer.status_code == 200, answer.text

        marker = wait_for(chromium, "return window.eaflow.markers.find(m => m.kind === 'fill')")
        assert marker["text"].startswith(("buy 0.1 @ ", "fill 0.1 @ ")), marker
        assert chromium.execute_script("return window.eaflow.markerApi.markers().length") >= 1
        ticket = wait_for(
            chromium,
            "const row = document.querySelector('#positions tbody tr');"
            "return row && row.dataset.ticket",
        )
        result = wait_for(chromium, "return window.eaflow.results.find(r => r.status === 'filled')")
        assert int(ticket) == result["position_ticket"]
        assert result["signal_id"] == answer.json()["signal_id"]
        status = "const row = document.querySelector('#positions tbody tr'); return row.cells[10]"
        assert wait_for(chromium, status + ".textContent === 'open'")  # its trade state came

        close = f"tradingview,closelong,EURUSD,instance=demo-1,secret={source['secret']}"
        answer = httpx.post(f"{url}/webhook/tradingview", content=close, timeout=5)
        assert answer.status_code == 200, answer.text
        closed = wait_for(
            chromium,
            "const row = document.querySelector('#positions tbody tr.closed');"
            "return row && [row.dataset.trade, ...[3, 10].map(i => row.cells[i].textContent)]",
        )
        assert closed == [f"demo-1:{ticket}", "0.1", "closed"]
        assert (
            chromium.execute_script(
                "return document.querySelectorAll('#positions tbody tr').length"
            )
            == 1
        )
        assert chromium.execute_script("return window.eaflow.error") is None
