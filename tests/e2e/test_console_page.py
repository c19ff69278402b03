"""The operator console in headless Chromium: a viewer sees every account live but cannot
act (buttons disabled, the API refuses); an admin signs in, halts a group and resumes an
instance through the page's buttons, checked in Redis and on the page; dead letters are
retried and purged from the page; with real router and executor processes, a position's
stops are set, a pending order cancelled and the position closed from the page through the
signal path; every instance is halted and resumed at once, part of a position closed and a
symbol closed on every instance; a pending order's price moved; a setting changed in an
instance's scope and in the global scope from the configuration panel."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from sinks.batch import results_table
from sinks.duckdb import DuckDbStore
from sinks.states import STATES, StateRows
from sinks.trades import TRADES, trades_table
from tests.e2e.browser import wait_for
from tests.e2e.conftest import (
    positions,
    results,
    seed,
    send_raw,
    terminal,
    wait_for_results,
    write_market,
)
from tests.e2e.test_chart_page import DOWN, UP, tick
from tests.e2e.workers import Worker
from tests.eaflow.gateway.console.accounts import (
    ADMIN_SECRET,
    KEYS,
    seed_accounts,
    seed_many,
    snapshot,
    trading_state,
)
from tests.eaflow.gateway.served import PREFIX, VIEWER, Served, serving
from tests.sinks.conftest import (
    SAMPLED,
    T0,
    fill,
    rejection,
    state_session,
    trade,
    trade_session,
)
from tests.tools import needs

pytestmark = needs("chromium", "chromedriver")
ROW = "document.querySelector('#accounts tr[data-instance=\"{}\"]')"
STATUS = ROW + "?.dataset.status"
POSITION = "document.querySelector('#positions tr[data-ticket=\"{}\"]')"


@pytest.fixture
def console(redis_url: str, tmp_path: Path) -> Iterator[Served]:
    with serving(redis_url, config_db=tmp_path / "eaflow.duckdb") as served:
        served.add_source(name="ops", secret=ADMIN_SECRET, admin=True)
        seed_accounts(served.client)
        yield served


def screenshot(driver: Any, name: str) -> None:
    """Kept in $EAFLOW_SCREENSHOTS when set (docs/images/console.png is taken so)."""
    folder = os.environ.get("EAFLOW_SCREENSHOTS")
    if folder:
        driver.save_screenshot(str(Path(folder) / name))


def on_fresh(driver: Any, css: str, act: Callable[[Any], None]) -> None:
    """`act` on the element `css` finds; again when the page re-rendered it in between (the
    positions table is rebuilt whenever the account's snapshot changes)."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(5):
        try:
            act(driver.find_element("css selector", css))
            return
        except StaleElementReferenceException:
            time.sleep(0.1)
    act(driver.find_element("css selector", css))


def click(driver: Any, css: str) -> None:
    on_fresh(driver, css, lambda element: element.click())


def confirm(driver: Any, expected: str) -> None:
    wait_for(driver, "return !document.getElementById('confirm').hidden")
    assert driver.find_element("id", "confirm-text").text == expected
    click(driver, "#confirm-ok")


def outcome(driver: Any, expected: str) -> None:
    wait_for(
        driver, f"return document.getElementById('outcome').textContent.includes({expected!r})"
    )


def test_a_viewer_sees_every_account_live_and_cannot_act(console: Served, chromium: Any) -> None:
    chromium.get(f"{console.url}/console?token={VIEWER}")
    assert chromium.current_url == f"{console.url}/console"
    wait_for(chromium, "return window.eaflowConsole && window.eaflowConsole.ready")
    rows = wait_for(
        chromium,
        "const r = document.querySelectorAll('#accounts tbody tr');"
        "return r.length === 5 && [...r].map(x => x.dataset.status)",
    )
    assert rows == ["running", "running", "disconnected", "sync lost", "no report"]
    cells = chromium.execute_script(
        "return [...document.querySelectorAll('#accounts tr[data-instance=\"demo-3\"] td')]"
        ".map(td => td.textContent)"
    )
    assert cells[:10] == [
        "demo-3",
        "us",
        "disconnected",
        "10003.00",
        "10013.00",
        "10010.0",
        "10.00",
        "–",  # nothing realised today: no trades stored
        "3",
        "0",
    ]
    assert cells[10].endswith("s ago")

    console.client.set(KEYS.state("demo-1"), snapshot("demo-1", 1, equity=777.5).model_dump_json())
    wait_for(
        chromium,
        "return document.querySelector('#accounts tr[data-instance=\"demo-1\"]')"
        ".cells[4].textContent === '777.50'",
    )  # live, without reloading

    chromium.find_element("id", "filter").send_keys("eu")
    wait_for(chromium, "return document.querySelectorAll('#accounts tbody tr').length === 2")

    buttons = chromium.execute_script(
        "return [...document.querySelectorAll('button.admin')].map(b => b.disabled)"
    )
    assert buttons and all(buttons)
    assert chromium.find_element("id", "who").text == "viewer"
    refused = chromium.execute_async_script(
        "const done = arguments[0];"
        "fetch('/console/api/trading_state', {method: 'POST', headers: {'Content-Type': "
        "'application/json'}, body: JSON.stringify({group: 'eu', state: 'halted'})})"
        ".then(r => done(r.status))"
    )
    assert refused == 403  # the page's own session, past its disabled buttons
    assert trading_state(console.client, "demo-1") == "active"
    assert chromium.execute_script("return window.eaflowConsole.error") is None


def test_an_admin_halts_a_group_resumes_one_and_retries_and_purges_dead_letters(
    console: Served, chromium: Any
) -> None:
    signal = orjson.dumps({"symbol": "EURUSD", "action": "open"})
    letter: Any = console.client.xadd(
        f"{PREFIX}dlq:rtss",
        {"d": signal, "stream": f"{PREFIX}rtss", "group": "router", "id": "1-0", "error": "boom"},
    )
    poison: Any = console.client.xadd(
        f"{PREFIX}dlq:rtss", {"d": b"not json", "stream": f"{PREFIX}rtss", "error": "bad"}
    )
    chromium.get(f"{console.url}/console?token={VIEWER}")
    wait_for(chromium, "return window.eaflowConsole && window.eaflowConsole.ready")
    chromium.find_element("id", "secret").send_keys(ADMIN_SECRET)
    click(chromium, "#signin button")
    wait_for(chromium, "return window.eaflowConsole.admin === 'source:ops'")
    assert chromium.find_element("id", "who").text == "admin (source:ops)"
    wait_for(
        chromium, "return [...document.querySelectorAll('button.admin')].every(b => !b.disabled)"
    )

    chromium.find_element("css selector", "#group option[value='eu']").click()
    click(chromium, "#groupbar button[data-act='halted']")
    confirm(chromium, "Halt group eu (2 instances)?")
    outcome(chromium, "demo-2: halted")
    assert [trading_state(console.client, i) for i in ("demo-1", "demo-2", "demo-3")] == [
        "halted",
        "halted",
        "active",
    ]
    for instance in ("demo-1", "demo-2"):
        wait_for(chromium, f"return {STATUS.format(instance)} === 'halted'")
    screenshot(chromium, "console.png")

    click(chromium, "#accounts tr[data-instance='demo-1'] button[data-act='active']")
    confirm(chromium, "Resume demo-1?")
    wait_for(chromium, f"return {STATUS.format('demo-1')} === 'running'")
    assert trading_state(console.client, "demo-1") == "active"
    assert chromium.execute_script(f"return {STATUS.format('demo-2')}") == "halted"

    click(chromium, f"#dlq tr[data-id='{letter.decode()}'] button.retry")
    confirm(chromium, f"Retry dead letter {letter.decode()} of rtss?")
    outcome(chromium, "retried as")
    wait_for(chromium, "return document.querySelectorAll('#dlq tbody tr').length === 1")
    assert console.signals() == [orjson.loads(signal)]
    click(chromium, f"#dlq tr[data-id='{poison.decode()}'] button.purge")
    confirm(chromium, f"Purge dead letter {poison.decode()} of rtss for good?")
    outcome(chromium, "purged (1 deleted)")
    wait_for(chromium, "return document.querySelectorAll('#dlq tbody tr').length === 0")
    assert console.client.xlen(f"{PREFIX}dlq:rtss") == 0
    assert console.signals() == [orjson.loads(signal)]
    assert chromium.execute_script("return window.eaflowConsole.error") is None


def test_an_admin_manages_trades_through_the_signal_path(
    redis_url: str,
    redis_client: redis.Redis,
    workers: Callable[..., Worker],
    tmp_path: Path,
    chromium: Any,
) -> None:
    """Real router and executor processes: with the page's buttons, a position gets new
    stops and is closed, a pending order is cancelled, and a group's EURUSD is closed all at
    once, each ending in its result, seen in the simulated account and on the page."""
    seed(redis_url, 1)
    write_market(redis_client)
    workers("rtss", "orders")
    send_raw(redis_client, {"symbol": "EURUSD", "order_type": "buy", "volume": 0.1})
    send_raw(
        redis_client,
        {"symbol": "EURUSD", "order_type": "buy_limit", "price": 1.2, "volume": 0.1},
    )
    opened, placed = sorted(wait_for_results(redis_client, 2), key=lambda r: r.status)
    assert (opened.status, placed.status) == ("filled", "placed"), (opened, placed)
    ticket, order = opened.position_ticket, placed.order_ticket
    with serving(redis_url, config_db=tmp_path / "eaflow.duckdb") as served:
        served.add_source(name="ops", secret=ADMIN_SECRET, admin=True)
        chromium.get(f"{served.url}/console?token={VIEWER}")
        wait_for(chromium, "return window.eaflowConsole && window.eaflowConsole.ready")
        chromium.find_element("id", "secret").send_keys(ADMIN_SECRET)
        click(chromium, "#signin button")
        wait_for(chromium, "return window.eaflowConsole.admin === 'source:ops'")
        wait_for(chromium, f"return {ROW.format('demo-1')}")
        click(chromium, "#accounts tr[data-instance='demo-1'] button.positions")
        wait_for(chromium, f"return {POSITION.format(ticket)}")

        row = f"#positions tr[data-ticket='{ticket}']"
        for kind, price in (("sl", "1.38"), ("tp", "1.395")):

            def typed(field: Any, price: str = price) -> None:
                field.clear()
                field.send_keys(price)

            on_fresh(chromium, f"{row} input.{kind}", typed)
        click(chromium, f"{row} button.sltp")
        confirm(chromium, f"Set SL 1.38 and TP 1.395 on {ticket} of demo-1?")
        outcome(chromium, f"demo-1: {ticket} modified")
        [moved] = positions(redis_url, 1)
        assert (moved.sl, moved.tp) == (1.38, 1.395)

        click(chromium, f"#orders tr[data-ticket='{order}'] button.cancel")
        confirm(chromium, f"Cancel order {order} of demo-1?")
        outcome(chromium, f"demo-1: {order} cancelled")
        assert terminal(redis_url, 1).orders_get() == ()
        wait_for(chromium, "return document.querySelectorAll('#orders tbody tr').length === 0")

        click(chromium, f"{row} button.close")
        confirm(chromium, f"Close position {ticket} of demo-1?")
        outcome(chromium, f"demo-1: {ticket} closed")
        assert positions(redis_url, 1) == ()
        wait_for(chromium, "return document.querySelectorAll('#positions tbody tr').length === 0")

        send_raw(redis_client, {"symbol": "EURUSD", "order_type": "buy", "volume": 0.2})
        wait_for(chromium, "return document.querySelectorAll('#positions tbody tr').length === 1")
        chromium.find_element("id", "group-symbol").send_keys("EURUSD")
        chromium.find_element("css selector", "#group option[value='demo']").click()
        click(chromium, "#groupbar button.closeall")
        confirm(chromium, "Close all EURUSD in group demo (1 instances)?")
        outcome(chromium, "close all: 1 of 1 results")
        outcome(chromium, "demo-1: closed")
        assert positions(redis_url, 1) == ()
        done = [r for r in results(redis_client) if r.source == "ops"]
        assert [(r.status, r.instance) for r in done] == [
            ("modified", "demo-1"),
            ("cancelled", "demo-1"),
            ("closed", "demo-1"),
            ("closed", "demo-1"),
        ]
        assert chromium.execute_script("return window.eaflowConsole.error") is None


def test_the_overview_renders_500_instances_and_stays_live(
    console: Served, chromium: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Figures for docs/console.md: time to first render and update delay at 500 rows."""
    names = seed_many(console.client, 500)
    chromium.get(f"{console.url}/console?token={VIEWER}")
    wait_for(chromium, "return document.querySelectorAll('#accounts tbody tr').length === 505")
    first = chromium.execute_script("return window.eaflowConsole.firstRender")
    delays = []
    for n, instance in enumerate(names[::100]):
        equity = 20_000.0 + n
        sent = time.monotonic()
        console.client.set(
            KEYS.state(instance), snapshot(instance, 1, equity=equity).model_dump_json()
        )
        wait_for(chromium, f"return {ROW.format(instance)}.cells[4].textContent === '{equity:.2f}'")
        delays.append(time.monotonic() - sent)
    with capsys.disabled():
        print(
            f"\nconsole, 500 instances: first render {first:.0f} ms after navigation, "
            f"update delays {', '.join(f'{d:.2f}' for d in delays)} s"
        )
    assert first < 10_000 and max(delays) < 5
    assert chromium.execute_script("return window.eaflowConsole.error") is None


def test_a_viewer_reads_todays_pnl_filters_the_result_log_and_reads_the_realised_pnl(
    console: Served, chromium: Any, tmp_path: Path
) -> None:
    path = tmp_path / "eaflow.duckdb"
    recorded = [fill(n, instance=f"demo-{n % 2 + 1}") for n in range(6)] + [rejection(9)]
    closed_today = [  # trade 20 closes now: net 6 + 2 * 20 - 1.4 - 0.25
        t.model_copy(update={"closed_at": time.time()}) if t.closed_at else t
        for t in trade(20, "demo-2")
    ]
    for store, batch in (
        (DuckDbStore(path), results_table((f"{n}-0", r) for n, r in enumerate(recorded))),
        (
            DuckDbStore(path, TRADES),
            trades_table((f"{n}-0", t) for n, t in enumerate(trade_session() + closed_today)),
        ),
    ):
        store.write(batch)
        store.close()
    chromium.get(f"{console.url}/console?token={VIEWER}")
    wait_for(chromium, "return document.querySelectorAll('#results tbody tr').length === 7")
    assert wait_for(chromium, "return document.querySelectorAll('#pnl tbody tr').length") > 3
    wait_for(chromium, f"return {ROW.format('demo-2')}?.cells[7].textContent === '44.35'")
    assert chromium.execute_script(f"return {ROW.format('demo-1')}.cells[7].textContent") == "–"
    chromium.find_element("css selector", "#results-filter [name=instance]").send_keys("demo-2")
    click(chromium, "#results-filter button")
    wait_for(chromium, "return document.querySelectorAll('#results tbody tr').length === 3")
    instances = chromium.execute_script(
        "return [...document.querySelectorAll('#results tbody tr')]"
        ".map(r => r.cells[1].textContent)"
    )
    assert instances == ["demo-2"] * 3
    pnl = chromium.execute_script(
        "return [...document.querySelectorAll('#pnl tbody tr')].map(r => r.cells[1].textContent)"
    )
    assert pnl and set(pnl) == {"demo-2"}
    link = chromium.find_element("id", "results-csv").get_attribute("href")
    assert link.endswith("/console/api/results?instance=demo-2&format=csv")
    assert chromium.execute_script("return window.eaflowConsole.error") is None


def test_an_accounts_chart_shows_candles_fills_and_stops_and_the_pnl_is_charted(
    console: Served, chromium: Any, tmp_path: Path
) -> None:
    """Per-account chart: the candles of its first position's symbol, its fill as a marker,
    its position's entry, SL and TP as price lines that follow a new SL live; its realised
    P&L curve; the P&L table's days as histogram bars."""
    now = time.time()
    for second in range(120, 0, -1):  # two minutes of recorded EURUSD quotes
        for k, bid in enumerate(UP if second % 2 else DOWN):
            msc = int((now - second) * 1000) + k * 400
            console.client.xadd(f"{PREFIX}ticks:EURUSD", {"d": tick(msc, bid)})
    held = snapshot("demo-1", 1)
    stops = held.positions[0].model_copy(update={"price_open": 1.38745, "sl": 1.3862, "tp": 1.3891})
    console.client.set(
        KEYS.state("demo-1"), held.model_copy(update={"positions": (stops,)}).model_dump_json()
    )
    opened = fill(0, done_at=now - 30, position_ticket=stops.ticket, price=Decimal("1.38745"))
    console.client.xadd(KEYS.rtrs, {"d": opened.model_dump_json()})
    days = [  # trades of demo-1 closing on three days, the second at a loss
        t.model_copy(update={"closed_at": T0 + d * 86_400, "profit": -20.0 if d == 1 else t.profit})
        if t.closed_at
        else t
        for d in range(3)
        for t in trade(40 + d, "demo-1")
    ]
    store = DuckDbStore(tmp_path / "eaflow.duckdb", TRADES)
    store.write(trades_table((f"{n}-0", t) for n, t in enumerate(trade_session() + days)))
    store.close()

    chromium.get(f"{console.url}/console?token={VIEWER}")
    wait_for(chromium, "return window.eaflowConsole && window.eaflowConsole.ready")
    table = wait_for(
        chromium,
        "const rows = [...document.querySelectorAll('#pnl tbody tr')];"
        "return rows.length && rows.map(r => [r.cells[0].textContent, r.cells[6].textContent])",
    )
    by_day: dict[str, float] = {}
    for day, net in table:
        by_day[day] = by_day.get(day, 0.0) + float(net)
    assert len(by_day) == 3
    bars = wait_for(
        chromium,
        "const s = window.eaflowCharts.pnlSeries.data();"
        "return s.length === 3 && s.map(b => [b.time, b.value, b.color])",
    )
    assert [b[0] for b in bars] == sorted(by_day)
    for (day, value, color), net in zip(bars, [by_day[d] for d in sorted(by_day)], strict=True):
        assert value == pytest.approx(net, abs=0.01), day
        assert color == ("#ef5350" if net < 0 else "#26a69a")
    assert [b[1] < 0 for b in bars] == [False, True, False]

    click(chromium, "#accounts tr[data-instance='demo-1'] button.positions")
    assert wait_for(chromium, "return window.eaflowCharts.candles?.series.data().length") >= 2
    assert chromium.find_element("id", "chart-symbol").get_attribute("value") == "EURUSD"
    marker = wait_for(
        chromium,
        "return window.eaflowCharts.candles.markerApi.markers().find(m => m.kind === 'fill')",
    )
    assert marker["text"] == "buy 0.10 @ 1.38745"  # a buy: its position is one
    lines = "return window.eaflowCharts.candles.series.priceLines().map(l => l.options())"
    found = {o["title"]: o["price"] for o in wait_for(chromium, lines)}
    assert found == {"buy 0.1 #1000": 1.38745, "SL #1000": 1.3862, "TP #1000": 1.3891}

    moved = stops.model_copy(update={"sl": 1.3871})
    later = held.model_copy(update={"positions": (moved,), "equity": 10_123.0, "ts": time.time()})
    console.client.set(KEYS.state("demo-1"), later.model_dump_json())
    wait_for(
        chromium,
        lines + ".some(o => o.title === 'SL #1000' && o.price === 1.3871)",
    )  # live, from the account's snapshot
    assert len(chromium.execute_script(lines)) == 3
    equity = "return window.eaflowCharts.equitySeries.data().map(p => p.value)"
    assert chromium.execute_script(equity)[-1] == 10_123.0  # sampled from that snapshot

    mine = [t for t in trade_session() + days if t.instance == "demo-1" and t.closed_at]
    total = sum(t.profit + t.commission + t.swap + t.fee for t in mine)
    curve = wait_for(
        chromium, "const d = window.eaflowCharts.curveSeries.data(); return d.length && d"
    )
    assert len(curve) == len(mine)
    assert curve[-1]["value"] == pytest.approx(total)
    chromium.execute_script("document.getElementById('account').scrollIntoView()")
    screenshot(chromium, "console-charts.png")
    assert chromium.execute_script("return window.eaflowCharts.error") is None
    assert chromium.execute_script("return window.eaflowConsole.error") is None


SETTING = "document.querySelector('#config-fields tr[data-field=\"{}\"]')"


def setting(driver: Any, field: str) -> list[str]:
    """The panel's row of `field`: field, value, source."""
    cells: list[str] = driver.execute_script(
        f"return [...{SETTING.format(field)}.cells].slice(0, 3).map(td => td.textContent)"
    )
    return cells


def test_an_admin_changes_a_setting_from_the_configuration_panel(
    console: Served, chromium: Any, tmp_path: Path
) -> None:
    """With the page's buttons only: a viewer reads demo-2's configuration but cannot edit;
    the admin sets its max_open_orders (a bad value first: refused naming the field), then
    makes it inherit again; each checked in the store, in Redis and in the panel."""
    from eaflow.config.store import ConfigStore  # imported here: this test's lines stay at the end

    chromium.get(f"{console.url}/console?token={VIEWER}")
    wait_for(chromium, "return window.eaflowConsole && window.eaflowConsole.ready")
    wait_for(chromium, f"return {ROW.format('demo-2')}")
    click(chromium, "#accounts tr[data-instance='demo-2'] button.config")
    wait_for(chromium, f"return {SETTING.format('max_open_orders')}")
    assert setting(chromium, "max_open_orders") == ["max_open_orders", "200", "default"]
    edits = chromium.execute_script(
        "return [...document.querySelectorAll('#config button.admin')].map(b => b.disabled)"
    )
    assert edits and all(edits)  # a viewer reads only

    chromium.find_element("id", "secret").send_keys(ADMIN_SECRET)
    click(chromium, "#signin button")
    wait_for(chromium, "return window.eaflowConsole.admin === 'source:ops'")
    wait_for(
        chromium,
        "return [...document.querySelectorAll('#config button.admin')].every(b => !b.disabled)",
    )
    click(chromium, "#config-fields tr[data-field='max_open_orders'] button.config-edit")
    value = chromium.find_element("css selector", "#config-form [name=value]")
    assert value.get_attribute("value") == "200"
    value.clear()
    value.send_keys("-1")
    click(chromium, "#config-form button")
    confirm(chromium, "Set max_open_orders of demo-2 to -1?")
    outcome(chromium, "refused: 422 max_open_orders: Input should be greater than")
    assert published_config(console, "demo-2")["max_open_orders"] == 200
    value.clear()
    value.send_keys("5")
    click(chromium, "#config-form button")
    confirm(chromium, "Set max_open_orders of demo-2 to 5?")
    outcome(chromium, "demo-2: max_open_orders set to 5 (configuration version")
    wait_for(chromium, f"return {SETTING.format('max_open_orders')}.dataset.source === 'instance'")
    assert setting(chromium, "max_open_orders") == ["max_open_orders", "5", "instance"]
    newest = chromium.execute_script(
        "return [...document.querySelector('#config-history tbody tr').cells]"
        ".map(td => td.textContent)"
    )
    [stored] = ConfigStore(tmp_path / "eaflow.duckdb").history("demo-2", 1)
    assert (stored.actor, stored.change, stored.note) == (
        "source:ops",
        {"set": {"max_open_orders": "5"}},
        "console: set max_open_orders",
    )
    assert newest[:4] == [str(stored.version), newest[1], "demo-2", "source:ops"]
    assert newest[4:] == ['{"set":{"max_open_orders":"5"}}', "console: set max_open_orders"]
    assert published_config(console, "demo-2")["max_open_orders"] == 5
    assert published_config(console, "demo-1")["max_open_orders"] == 200
    screenshot(chromium, "console-config.png")

    click(chromium, "#config-fields tr[data-field='max_open_orders'] button.config-unset")
    confirm(chromium, "Make max_open_orders of demo-2 inherit (unset it in the instance's scope)?")
    outcome(chromium, "demo-2: max_open_orders inherited")
    wait_for(chromium, f"return {SETTING.format('max_open_orders')}.dataset.source === 'default'")
    assert setting(chromium, "max_open_orders") == ["max_open_orders", "200", "default"]
    assert published_config(console, "demo-2")["max_open_orders"] == 200
    assert chromium.execute_script("return window.eaflowConsole.error") is None


def published_config(served: Served, instance: str) -> dict[str, Any]:
    """The configuration the router reads: the instance's published spec in Redis."""
    raw = served.client.hget(KEYS.instances, instance)
    assert raw is not None
    found: dict[str, Any] = orjson.loads(raw)["config"]
    return found


def sign_in_as_admin(driver: Any) -> None:
    wait_for(driver, "return window.eaflowConsole && window.eaflowConsole.ready")
    driver.find_element("id", "secret").send_keys(ADMIN_SECRET)
    click(driver, "#signin button")
    wait_for(driver, "return window.eaflowConsole.admin === 'source:ops'")


def test_a_viewer_cannot_act_on_every_instance_and_an_admin_halts_and_resumes_all(
    console: Served, chromium: Any
) -> None:
    everyone = [f"demo-{n}" for n in range(1, 6)]
    chromium.get(f"{console.url}/console?token={VIEWER}")
    wait_for(chromium, "return window.eaflowConsole && window.eaflowConsole.ready")
    disabled = chromium.execute_script(
        "return [...document.querySelectorAll('#allbar button')].map(b => b.disabled)"
    )
    assert disabled == [True] * 4
    refused = chromium.execute_async_script(
        "const done = arguments[0];"
        "Promise.all([['trading_state', {all: true, state: 'halted'}],"
        " ['close_all', {all: true}]].map(([path, body]) =>"
        " fetch('/console/api/' + path, {method: 'POST', headers: {'Content-Type':"
        " 'application/json'}, body: JSON.stringify(body)}).then(r => r.status)))"
        ".then(done)"
    )
    assert refused == [403, 403]
    assert console.signals() == []

    sign_in_as_admin(chromium)
    wait_for(chromium, "return [...document.querySelectorAll('#allbar button')]"
             ".every(b => !b.disabled)")  # fmt: skip
    click(chromium, "#allbar button[data-state='halted']")
    confirm(chromium, "Halt all 5 instances?")
    outcome(chromium, "demo-5: halted")
    assert [trading_state(console.client, i) for i in everyone] == ["halted"] * 5
    for instance in ("demo-1", "demo-2"):  # the running ones; the others show their link
        wait_for(chromium, f"return {STATUS.format(instance)} === 'halted'")

    click(chromium, "#allbar button[data-state='active']")
    confirm(chromium, "Resume all 5 instances?")
    outcome(chromium, "demo-5: active")
    assert [trading_state(console.client, i) for i in everyone] == ["active"] * 5
    for instance in ("demo-1", "demo-2"):
        wait_for(chromium, f"return {STATUS.format(instance)} === 'running'")
    lines = chromium.execute_script("return window.eaflowConsole.outcome")
    assert [line.split(" (")[0] for line in lines] == [f"{i}: active" for i in everyone]
    assert chromium.execute_script("return window.eaflowConsole.error") is None


def test_an_admin_closes_part_of_a_position_then_a_symbol_on_every_instance(
    redis_url: str,
    redis_client: redis.Redis,
    workers: Callable[..., Worker],
    tmp_path: Path,
    chromium: Any,
) -> None:
    """Real router and executor processes: 0.1 lots of a 0.3 lot position closed with the
    page's volume field leaves 0.2 open (in the simulated account and on the page); then
    EURUSD is closed on every instance, one result per instance."""
    seed(redis_url, 2)
    write_market(redis_client)
    workers("rtss", "orders")
    send_raw(
        redis_client,
        {"symbol": "EURUSD", "order_type": "buy", "volume": 0.3, "instances": ["demo-1"]},
    )
    [opened] = wait_for_results(redis_client, 1)
    assert opened.status == "filled", opened
    ticket = opened.position_ticket
    with serving(redis_url, config_db=tmp_path / "eaflow.duckdb") as served:
        served.add_source(name="ops", secret=ADMIN_SECRET, admin=True)
        chromium.get(f"{served.url}/console?token={VIEWER}")
        sign_in_as_admin(chromium)
        wait_for(chromium, f"return {ROW.format('demo-1')}")
        click(chromium, "#accounts tr[data-instance='demo-1'] button.positions")
        wait_for(chromium, f"return {POSITION.format(ticket)}")
        row = f"#positions tr[data-ticket='{ticket}']"
        on_fresh(chromium, f"{row} input.volume", lambda field: field.send_keys("0.1"))
        click(chromium, f"{row} button.close")
        confirm(chromium, f"Close 0.1 lots of position {ticket} of demo-1?")
        outcome(chromium, f"demo-1: 0.1 lots of {ticket} closed")
        [rest] = positions(redis_url, 1)
        assert (rest.ticket, round(rest.volume, 8)) == (ticket, 0.2)
        wait_for(chromium, f"return {POSITION.format(ticket)}?.cells[3].textContent === '0.2'")

        chromium.find_element("id", "all-symbol").send_keys("EURUSD")
        click(chromium, "#allbar button.all-close")
        confirm(chromium, "Close all EURUSD on all 2 instances?")
        outcome(chromium, "close all: 2 of 2 results")
        lines = chromium.execute_script("return window.eaflowConsole.outcome")
        assert lines[1] == "demo-1: closed"
        assert lines[2].startswith("demo-2: rejected: ticket: no open position matches EURUSD")
        assert positions(redis_url, 1) == ()
        wait_for(chromium, "return document.querySelectorAll('#positions tbody tr').length === 0")
        done = [
            (r.instance, r.status, r.volume) for r in results(redis_client) if r.source == "ops"
        ]
        assert done[0] == ("demo-1", "closed", Decimal("0.1"))
        assert sorted(done[1:]) == [
            ("demo-1", "closed", Decimal("0.2")),
            ("demo-2", "rejected", None),
        ]
        assert chromium.execute_script("return window.eaflowConsole.error") is None


def test_an_accounts_recorded_equity_and_balance_are_charted_then_sampled_live(
    console: Served, chromium: Any, tmp_path: Path
) -> None:
    """The account's equity and balance as the state sink recorded them (state_session()
    sampled every 10 s, moved to the last two minutes), then its snapshots' samples after
    the stored points."""
    base = int(time.time()) - 120
    states = [s.model_copy(update={"ts": s.ts - T0 + base}) for s in state_session()]
    batch = StateRows(10.0)((f"{n + 1}-0", s.model_dump(mode="json")) for n, s in enumerate(states))
    store = DuckDbStore(tmp_path / "eaflow.duckdb", STATES)
    store.write(batch)
    store.close()
    stored = [r for r in batch.to_pylist() if r["instance"] == "demo-1"]
    assert [r["ts"] - base for r in stored] == SAMPLED["demo-1"]

    chromium.get(f"{console.url}/console?token={VIEWER}")
    wait_for(chromium, "return window.eaflowConsole && window.eaflowConsole.ready")
    click(chromium, "#accounts tr[data-instance='demo-1'] button.positions")
    wait_for(chromium, "return window.eaflowCharts.equity.length")
    points = "return window.eaflowCharts.{}Series.data().map(p => [p.time, p.value])"
    equity = wait_for(chromium, points.format("equity"))
    balance = chromium.execute_script(points.format("balance"))
    recorded = [[int(r["ts"]), r["equity"]] for r in stored]
    assert equity[: len(stored)] == recorded
    assert balance[: len(stored)] == [[int(r["ts"]), r["balance"]] for r in stored]
    assert [b for _, b in balance[: len(stored)]] == [10_000.0] * 2 + [10_012.5] * 3 + [
        10_008.5
    ] * 3
    seeded = snapshot("demo-1", 1)  # the account's snapshot when the chart opened
    assert equity[len(stored) :] == [[int(equity[-1][0]), seeded.equity]]

    later = seeded.model_copy(update={"equity": 10_123.0, "balance": 10_050.0, "ts": time.time()})
    console.client.set(KEYS.state("demo-1"), later.model_dump_json())
    wait_for(chromium, points.format("equity") + ".at(-1)[1] === 10123")
    assert chromium.execute_script(points.format("balance"))[-1][1] == 10_050.0
    assert chromium.execute_script(points.format("equity"))[: len(stored)] == recorded
    assert chromium.execute_script("return window.eaflowCharts.error") is None


def test_an_admin_moves_a_pending_orders_price_from_the_page(
    redis_url: str,
    redis_client: redis.Redis,
    workers: Callable[..., Worker],
    tmp_path: Path,
    chromium: Any,
) -> None:
    """Real router and executor processes: with the order's price, SL and TP fields and its
    Modify button, a buy limit at 1.2 moves to 1.25 with a stop loss, in the simulated
    account and on the page; a price of 0 is refused first, naming it."""
    seed(redis_url, 1)
    write_market(redis_client)
    workers("rtss", "orders")
    limit = {"symbol": "EURUSD", "order_type": "buy_limit", "price": 1.2, "volume": 0.1}
    send_raw(redis_client, {**limit, "take_profit": 1.3})
    [placed] = wait_for_results(redis_client, 1)
    assert placed.status == "placed", placed
    order = placed.order_ticket
    with serving(redis_url, config_db=tmp_path / "eaflow.duckdb") as served:
        served.add_source(name="ops", secret=ADMIN_SECRET, admin=True)
        chromium.get(f"{served.url}/console?token={VIEWER}")
        sign_in_as_admin(chromium)
        wait_for(chromium, f"return {ROW.format('demo-1')}")
        click(chromium, "#accounts tr[data-instance='demo-1'] button.positions")
        row = f"#orders tr[data-ticket='{order}']"
        field = 'document.querySelector("{} input.{}").value'
        assert wait_for(chromium, f"return {field.format(row, 'price')}") == "1.2"
        assert chromium.execute_script(f"return {field.format(row, 'tp')}") == "1.3"

        def typed(css: str, text: str) -> None:
            def act(element: Any) -> None:
                element.clear()
                element.send_keys(text)

            on_fresh(chromium, css, act)

        typed(f"{row} input.price", "0")
        click(chromium, f"{row} button.modify")
        confirm(chromium, f"Move order {order} of demo-1 to 0 (SL 0, TP 1.3)?")
        outcome(chromium, "refused: 422 price: Input should be greater than 0")
        typed(f"{row} input.price", "1.25")
        typed(f"{row} input.sl", "1.2")
        click(chromium, f"{row} button.modify")
        confirm(chromium, f"Move order {order} of demo-1 to 1.25 (SL 1.2, TP 1.3)?")
        outcome(chromium, f"demo-1: {order} modified")
        [moved] = terminal(redis_url, 1).orders_get() or ()
        assert (moved.ticket, moved.price_open, moved.sl, moved.tp) == (order, 1.25, 1.2, 1.3)
        wait_for(chromium, f"return document.querySelector(\"{row}\").dataset.price === '1.25'")
        assert chromium.execute_script(f"return {field.format(row, 'price')}") == "1.25"
        done = [(r.action, r.status) for r in results(redis_client) if r.source == "ops"]
        assert done == [("modify", "modified")]
        assert chromium.execute_script("return window.eaflowConsole.error") is None


def test_an_admin_changes_a_global_setting_from_the_configuration_panel(
    console: Served, chromium: Any, tmp_path: Path
) -> None:
    """With the page's buttons only: the admin opens the global configuration, sets
    max_open_orders for every instance (a bad value refused first), sees demo-2 inherit it,
    then gives it back its default; checked in the store, in Redis and in the panel."""
    from eaflow.config.store import ConfigStore  # imported here: this test's lines stay at the end

    chromium.get(f"{console.url}/console?token={VIEWER}")
    sign_in_as_admin(chromium)
    click(chromium, "#config-global")
    wait_for(chromium, f"return {SETTING.format('max_open_orders')}")
    assert chromium.find_element("id", "config-name").text == "global"
    assert setting(chromium, "max_open_orders") == ["max_open_orders", "200", "default"]
    assert setting(chromium, "trading_state") == ["trading_state", "active", "default"]
    click(chromium, "#config-fields tr[data-field='max_open_orders'] button.config-edit")
    value = chromium.find_element("css selector", "#config-form [name=value]")
    value.clear()
    value.send_keys("-1")
    click(chromium, "#config-form button")
    confirm(chromium, "Set max_open_orders of the global configuration to -1?")
    outcome(chromium, "refused: 422 max_open_orders: Input should be greater than")
    value.clear()
    value.send_keys("9")
    click(chromium, "#config-form button")
    confirm(chromium, "Set max_open_orders of the global configuration to 9?")
    outcome(chromium, "global: max_open_orders set to 9 (configuration version")
    wait_for(chromium, f"return {SETTING.format('max_open_orders')}.dataset.source === 'global'")
    assert setting(chromium, "max_open_orders") == ["max_open_orders", "9", "global"]
    [stored] = ConfigStore(tmp_path / "eaflow.duckdb").history("*", 1)
    assert (stored.actor, stored.change, stored.note) == (
        "source:ops",
        {"set": {"max_open_orders": "9"}},
        "console: set max_open_orders",
    )
    newest = chromium.execute_script(
        "return [...document.querySelector('#config-history tbody tr').cells]"
        ".map(td => td.textContent)"
    )
    assert newest[2:4] == ["global", "source:ops"]
    assert chromium.find_element("id", "config-changes").text == "Changes of the global scope"
    assert [published_config(console, i)["max_open_orders"] for i in ("demo-1", "demo-2")] == [
        9,
        9,
    ]

    click(chromium, "#accounts tr[data-instance='demo-2'] button.config")
    wait_for(chromium, "return document.getElementById('config-name').textContent === 'demo-2'")
    assert setting(chromium, "max_open_orders") == ["max_open_orders", "9", "global"]

    click(chromium, "#config-global")
    wait_for(chromium, "return document.getElementById('config-name').textContent === 'global'")
    click(chromium, "#config-fields tr[data-field='max_open_orders'] button.config-unset")
    confirm(
        chromium,
        "Make max_open_orders of the global configuration its default "
        "(unset it in the global scope)?",
    )
    outcome(chromium, "global: max_open_orders back to its default")
    wait_for(chromium, f"return {SETTING.format('max_open_orders')}.dataset.source === 'default'")
    assert setting(chromium, "max_open_orders") == ["max_open_orders", "200", "default"]
    assert published_config(console, "demo-1")["max_open_orders"] == 200
    assert chromium.execute_script("return window.eaflowConsole.error") is None
