// The console's pictures, with lightweight-charts and the chart page's candles.js:
// - the selected account's chart (the row's *Positions*): a symbol's candles, the account's
//   fills as markers and its open positions' entry, SL and TP as price lines, live from the
//   chart page's /api/live stream (ticks, results, snapshots);
// - its equity curve: the running net realised P&L of its closed trades
//   (/console/api/pnl/curve, read again every 30 s), and its equity and balance as the
//   sinks recorded them (/console/api/equity), then as its snapshots give them while the
//   account is shown;
// - the realised P&L by day as a histogram of the P&L table's rows (as filtered).
// console.js owns the tables; this file only watches them. `window.eaflowCharts` holds the
// charts' state (read by the browser test).
(() => {
  "use strict";

  const UP = "#26a69a", DOWN = "#ef5350", ENTRY = "#2962ff";
  const charts = (window.eaflowCharts = {
    instance: null, symbol: "", resolution: "1", bars: [], markers: [], positions: [],
    lines: [], candles: null, events: null, curve: [], curveChart: null, curveSeries: null,
    equitySeries: null, balanceSeries: null, equity: [],
    days: [], pnlChart: null, pnlSeries: null, error: null,
  });

  const getJSON = (url) => call("GET", url); // console.js's, loaded first: its $ too

  function failed(error) {
    charts.error = String(error);
    $("chart-status").textContent = `chart: ${error.message}`;
  }

  function lineChart(element) {
    return LightweightCharts.createChart(element, {
      autoSize: true,
      layout: { background: { color: "#ffffff" }, textColor: "#131722", attributionLogo: true },
      timeScale: { timeVisible: true },
    });
  }

  // Entry, SL and TP of the account's open positions in the symbol shown, as price lines.
  function showLines() {
    const wanted = [];
    for (const p of charts.positions.filter((p) => p.symbol === charts.symbol)) {
      const side = p.type === 1 ? "sell" : "buy";
      wanted.push({ kind: "entry", ticket: p.ticket, price: p.price_open, color: ENTRY,
                    title: `${side} ${p.volume} #${p.ticket}` });
      if (p.sl) wanted.push({ kind: "sl", ticket: p.ticket, price: p.sl, color: DOWN,
                              title: `SL #${p.ticket}` });
      if (p.tp) wanted.push({ kind: "tp", ticket: p.ticket, price: p.tp, color: UP,
                              title: `TP #${p.ticket}` });
    }
    const key = (lines) => lines.map((l) => `${l.kind}:${l.ticket}:${l.price}`).join(",");
    if (key(wanted) === key(charts.lines.map((l) => l.shown))) return;
    for (const line of charts.lines) charts.candles.series.removePriceLine(line.drawn);
    charts.lines = wanted.map((shown) => ({
      shown,
      drawn: charts.candles.series.createPriceLine({
        price: shown.price, color: shown.color, title: shown.title, lineWidth: 1,
        lineStyle: shown.kind === "entry" ? LightweightCharts.LineStyle.Solid
          : LightweightCharts.LineStyle.Dashed,
        axisLabelVisible: true,
      }),
    }));
  }

  // The price range shown holds the lines too: a stop far from the market stays in sight.
  function withLines(original) {
    const found = original();
    const prices = charts.lines.map((line) => line.shown.price);
    if (!found?.priceRange || !prices.length) return found;
    const { minValue, maxValue } = found.priceRange;
    return { ...found, priceRange: { minValue: Math.min(minValue, ...prices),
                                     maxValue: Math.max(maxValue, ...prices) } };
  }

  function showMarkers() {
    EaflowCandles.showMarkers(charts.candles.markerApi, charts.markers, charts.resolution);
  }

  // One equity and balance sample a second, from the account's snapshots.
  function addEquity(state) {
    const time = Math.floor(state.ts);
    for (const [series, value] of [[charts.equitySeries, state.equity],
                                   [charts.balanceSeries, state.balance]]) {
      const last = series.data().at(-1);
      if (!last || time >= last.time) series.update({ time, value });
    }
  }

  // The recorded states (one point a second, the last wins), then the samples taken since.
  async function loadEquity() {
    const instance = charts.instance;
    const rows = await getJSON(`/console/api/equity?${new URLSearchParams({ instance })}`);
    if (instance !== charts.instance) return;
    charts.equity = rows;
    const end = rows.length ? Math.floor(rows[rows.length - 1].ts) : -Infinity;
    for (const [series, key] of [[charts.equitySeries, "equity"],
                                 [charts.balanceSeries, "balance"]]) {
      const points = new Map(rows.map((row) => [Math.floor(row.ts), row[key]]));
      const live = series.data().filter((p) => p.time > end);
      series.setData([...[...points].map(([time, value]) => ({ time, value })), ...live]);
    }
  }

  // The live stream is closed while another account or symbol loads: none of its events
  // may land on the new one's chart.
  function quiet() {
    if (charts.events) charts.events.close();
    charts.events = null;
  }

  function listen() {
    quiet();
    const query = new URLSearchParams({ symbol: charts.symbol, instance: charts.instance });
    const events = (charts.events = new EventSource(`/api/live?${query}`));
    events.addEventListener("tick", (e) => EaflowCandles.addTick(
      charts.candles.series, charts.bars, charts.resolution, JSON.parse(e.data)));
    events.addEventListener("state", (e) => {
      const state = JSON.parse(e.data);
      charts.positions = state.positions;
      showLines();
      addEquity(state);
    });
    events.addEventListener("result", (e) => {
      const { result, marker } = JSON.parse(e.data);
      if (!marker || result.symbol !== charts.symbol || result.instance !== charts.instance) return;
      if (!charts.markers.some((m) => m.result_id === marker.result_id)) {
        charts.markers.push(marker);
        showMarkers();
      }
    });
  }

  // The symbol chosen (its bars, the account's markers in it, its lines), then live.
  async function showSymbol() {
    const instance = charts.instance;
    quiet();
    charts.symbol = $("chart-symbol").value;
    charts.resolution = $("chart-resolution").value;
    const bars = await EaflowCandles.load(charts.candles.series, charts.symbol, charts.resolution);
    const markers = await getJSON(`/api/markers?${new URLSearchParams({
      symbol: charts.symbol, instance })}`);
    if (instance !== charts.instance) return; // another account was chosen meanwhile
    charts.bars = bars;
    charts.markers = markers;
    showMarkers();
    showLines();
    charts.candles.chart.timeScale().fitContent();
    $("chart-status").textContent = `${instance} · ${charts.symbol}`;
    listen();
  }

  async function loadCurve() {
    const instance = charts.instance;
    if (!instance) return;
    const rows = await getJSON(`/console/api/pnl/curve?${new URLSearchParams({ instance })}`);
    if (instance !== charts.instance) return;
    charts.curve = rows;
    const points = new Map(); // one point a second: the running sum after its last trade
    for (const row of rows) points.set(Math.floor(row.closed_at), row.cumulative);
    charts.curveSeries.setData([...points].map(([time, value]) => ({ time, value })));
    charts.curveChart.timeScale().fitContent();
    $("curve-total").textContent = rows.length
      ? `${rows.length} closed trades, ${rows[rows.length - 1].cumulative.toFixed(2)} net`
      : "no closed trade recorded";
  }

  // The account of a row's *Positions* button: the symbol of its first position by default.
  async function select(instance) {
    if (!charts.candles) {
      charts.candles = EaflowCandles.create($("account-chart"));
      charts.candles.series.applyOptions({ autoscaleInfoProvider: withLines });
      charts.curveChart = lineChart($("curve-chart"));
      charts.curveSeries = charts.curveChart.addSeries(LightweightCharts.LineSeries, {
        color: ENTRY, lineWidth: 2, title: "realised",
      });
      charts.curveChart.applyOptions({ leftPriceScale: { visible: true } });
      charts.equitySeries = charts.curveChart.addSeries(LightweightCharts.LineSeries, {
        color: "#787b86", lineWidth: 1, title: "equity", priceScaleId: "left",
      });
      charts.balanceSeries = charts.curveChart.addSeries(LightweightCharts.LineSeries, {
        color: "#ff9800", lineWidth: 1, title: "balance", priceScaleId: "left",
        lineType: LightweightCharts.LineType.WithSteps,
      });
    }
    charts.instance = instance;
    quiet();
    charts.lines.forEach((line) => charts.candles.series.removePriceLine(line.drawn));
    charts.lines = [];
    const [symbols, state] = await Promise.all([
      getJSON("/api/symbols"),
      getJSON(`/api/state/${encodeURIComponent(instance)}`).catch(() => ({ positions: [] })),
    ]);
    if (instance !== charts.instance) return;
    charts.positions = state.positions;
    charts.equitySeries.setData([]);
    charts.balanceSeries.setData([]);
    if (state.ts) addEquity(state);
    const held = [...new Set(state.positions.map((p) => p.symbol))];
    const choices = [...held, ...symbols.filter((s) => !held.includes(s))];
    $("chart-symbol").replaceChildren(...choices.map((s) => new Option(s, s)));
    await Promise.all([showSymbol(), loadCurve(), loadEquity()]);
  }

  // The P&L table's rows (console.js's `pnl`, as filtered), summed by day.
  function showDays() {
    const days = new Map();
    for (const row of window.eaflowConsole.pnl) {
      days.set(row.day, (days.get(row.day) ?? 0) + row.net);
    }
    charts.days = [...days].map(([day, net]) => ({ day, net }))
      .sort((a, b) => (a.day < b.day ? -1 : 1));
    charts.pnlSeries.setData(charts.days.map(({ day, net }) => ({
      time: day, value: net, color: net < 0 ? DOWN : UP,
    })));
    charts.pnlChart.timeScale().fitContent();
  }

  function main() {
    charts.pnlChart = lineChart($("pnl-chart"));
    charts.pnlChart.applyOptions({ timeScale: { timeVisible: false } });
    charts.pnlSeries = charts.pnlChart.addSeries(LightweightCharts.HistogramSeries, {
      title: "net",
    });
    new MutationObserver(() => {
      try { showDays(); } catch (error) { failed(error); }
    }).observe($("pnl").tBodies[0], { childList: true });
    $("accounts").addEventListener("click", (event) => {
      const made = event.target.closest("button.positions");
      if (made) select(made.closest("tr").dataset.instance).catch(failed);
    });
    for (const id of ["chart-symbol", "chart-resolution"]) {
      $(id).addEventListener("change", () => showSymbol().catch(failed));
    }
    setInterval(() => loadCurve().catch(failed), 30000);
  }

  main();
})();
