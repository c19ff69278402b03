// Candles with lightweight-charts, shared by the chart page (chart.js) and the console's
// per-account chart (console-charts.js): the chart and its candle series, bars from
// /udf/history, a live tick folded into the last bar, markers moved onto their bars.
"use strict";

window.EaflowCandles = (() => {
  const SECONDS = { "1S": 1, "5S": 5, "15S": 15, "1": 60, "5": 300, "15": 900, "60": 3600 };

  function digitsOf(bars) {
    let digits = 2;
    for (const bar of bars.slice(-50)) {
      const text = String(bar.close);
      digits = Math.max(digits, text.includes(".") ? text.split(".")[1].length : 0);
    }
    return digits;
  }

  function barTime(seconds, resolution) {
    const width = SECONDS[resolution];
    return Math.floor(seconds / width) * width;
  }

  // A chart in `element` with one candle series and its markers.
  function create(element) {
    const chart = LightweightCharts.createChart(element, {
      autoSize: true,
      layout: { background: { color: "#ffffff" }, textColor: "#131722", attributionLogo: true },
      timeScale: { timeVisible: true, secondsVisible: true },
    });
    const series = chart.addSeries(LightweightCharts.CandlestickSeries, {
      upColor: "#26a69a", downColor: "#ef5350", borderVisible: false,
      wickUpColor: "#26a69a", wickDownColor: "#ef5350",
    });
    return { chart, series, markerApi: LightweightCharts.createSeriesMarkers(series, []) };
  }

  // The symbol's bars (oldest first), drawn on `series` with the price's digits.
  async function load(series, symbol, resolution) {
    const to = Math.floor(Date.now() / 1000) + 86400;
    const url = `/udf/history?${new URLSearchParams({ symbol, resolution, from: 0, to })}`;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    const found = await response.json();
    const bars = found.s === "ok"
      ? found.t.map((t, i) => ({ time: t, open: found.o[i], high: found.h[i], low: found.l[i],
                                 close: found.c[i] }))
      : [];
    const digits = digitsOf(bars);
    series.applyOptions({ priceFormat: { type: "price", precision: digits,
                                         minMove: 10 ** -digits } });
    series.setData(bars.map((bar) => ({ ...bar })));
    return bars;
  }

  // A tick (of the `tick` live event) extends the last bar or opens the next one.
  function addTick(series, bars, resolution, tick) {
    const time = barTime(Math.floor(tick.time_msc / 1000), resolution);
    const last = bars[bars.length - 1];
    if (last && last.time === time) {
      Object.assign(last, { high: Math.max(last.high, tick.bid), low: Math.min(last.low, tick.bid),
                            close: tick.bid });
    } else if (!last || time > last.time) {
      bars.push({ time, open: tick.bid, high: tick.bid, low: tick.bid, close: tick.bid });
    } else {
      return;
    }
    series.update({ ...bars[bars.length - 1] });
  }

  // Markers of /api/markers (or of `result` live events), each on the bar holding its time.
  function showMarkers(markerApi, markers, resolution) {
    markerApi.setMarkers(markers
      .map((m) => ({ ...m, time: barTime(m.time, resolution) }))
      .sort((a, b) => a.time - b.time));
  }

  return { create, load, addTick, showMarkers };
})();
