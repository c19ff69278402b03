// The eaflow chart page: candles from /udf/history (candles.js, shared with the console),
// markers and tables from /api/*, live updates from /api/live (Server-Sent Events).
// `window.eaflow` holds the page state.
"use strict";

const $ = (id) => document.getElementById(id);
const TYPES = { 0: "buy", 1: "sell" };
const page = (window.eaflow = {
  symbol: "", instance: "", resolution: "1S", bars: [], markers: [], results: [],
  positions: [], trades: new Map(), chart: null, series: null, markerApi: null, events: null,
});
const CLOSED_SHOWN = 20; // closed trades listed under the open positions

async function getJSON(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function fill(select, values, chosen) {
  select.replaceChildren(...values.map((value) => new Option(value || "(all)", value)));
  select.value = values.includes(chosen) ? chosen : values[0] ?? "";
  return select.value;
}

function cells(row, values, classes = {}) {
  for (const [index, value] of values.entries()) {
    const cell = row.insertCell();
    cell.textContent = value ?? "";
    if (classes[index]) cell.className = classes[index];
  }
}

function showMarkers() {
  EaflowCandles.showMarkers(page.markerApi, page.markers, page.resolution);
}

function addMarker(marker) {
  if (!page.markers.some((m) => m.result_id === marker.result_id)) page.markers.push(marker);
  showMarkers();
}

function onTick(tick) {
  EaflowCandles.addTick(page.series, page.bars, page.resolution, tick);
}

const tradeKey = (t) => `${t.instance}:${t.trade_id}`;
const net = (t) => t.profit + t.commission + t.swap + t.fee;

function addTrade(trade) {
  const known = page.trades.get(tradeKey(trade));
  if (!known || known.seq < trade.seq) page.trades.set(tradeKey(trade), trade);
}

// Open positions from the account snapshot, with their trade's strategy tag and what its
// deals realised so far; then the last closed trades with their net P&L (the `trades` stream).
function renderPositions() {
  const body = $("positions").tBodies[0];
  body.replaceChildren();
  for (const p of page.positions) {
    const trade = page.trades.get(`${page.instance}:${p.ticket}`);
    const row = body.insertRow();
    row.dataset.ticket = p.ticket;
    const realised = trade ? trade.realized_profit + trade.commission + trade.swap + trade.fee : 0;
    cells(row, [p.ticket, p.symbol, TYPES[p.type], p.volume, p.price_open, p.sl || "", p.tp || "",
                p.price_current, p.profit.toFixed(2), trade?.strategy ?? "",
                realised ? `open, ${realised.toFixed(2)} realised` : "open"],
          { 2: TYPES[p.type] });
  }
  const closed = [...page.trades.values()]
    .filter((t) => t.status === "CLOSED" && (!page.instance || t.instance === page.instance))
    .sort((a, b) => b.ts - a.ts)
    .slice(0, CLOSED_SHOWN);
  for (const t of closed) {
    const row = body.insertRow();
    row.dataset.trade = tradeKey(t);
    row.className = "closed";
    cells(row, [t.trade_id, t.symbol, t.side, t.closed_volume, t.entry_price, t.stop_loss ?? "",
                t.take_profit ?? "", t.close_price ?? "", net(t).toFixed(2), t.strategy ?? "",
                "closed"], { 2: t.side });
  }
}

function renderState(state) {
  page.positions = state ? state.positions : [];
  renderPositions();
  $("account").textContent = state
    ? `balance ${state.balance.toFixed(2)} · equity ${state.equity.toFixed(2)} ${state.currency}`
    : "";
}

function addResult(result) {
  page.results.unshift(result);
  const row = $("results").tBodies[0].insertRow(0);
  row.dataset.resultId = result.result_id;
  row.className = result.status;
  const time = new Date(result.done_at * 1000).toISOString().slice(11, 19);
  cells(row, [time, result.instance, result.action, result.symbol, result.status,
              (result.retcode_name || "").replace("TRADE_RETCODE_", "") || result.retcode,
              result.volume, result.price,
              result.error]);
  while ($("results").tBodies[0].rows.length > 50) $("results").tBodies[0].deleteRow(-1);
}

function listen() {
  if (page.events) page.events.close();
  const query = new URLSearchParams({ symbol: page.symbol, instance: page.instance });
  const events = (page.events = new EventSource(`/api/live?${query}`));
  events.onopen = () => { $("status").textContent = "live"; $("status").className = "status live"; };
  events.onerror = () => { $("status").textContent = "reconnecting…"; $("status").className = "status"; };
  events.addEventListener("tick", (e) => onTick(JSON.parse(e.data)));
  events.addEventListener("state", (e) => renderState(JSON.parse(e.data)));
  events.addEventListener("trade", (e) => { addTrade(JSON.parse(e.data)); renderPositions(); });
  events.addEventListener("result", (e) => {
    const { result, marker } = JSON.parse(e.data);
    addResult(result);
    if (marker && result.symbol === page.symbol) addMarker(marker);
  });
}

async function load() {
  page.symbol = $("symbol").value;
  page.instance = $("instance").value;
  page.resolution = $("resolution").value;
  history.replaceState(null, "", `?${new URLSearchParams({ symbol: page.symbol,
    instance: page.instance, resolution: page.resolution })}`);
  page.bars = await EaflowCandles.load(page.series, page.symbol, page.resolution);
  page.markers = await getJSON(`/api/markers?${new URLSearchParams({ symbol: page.symbol,
    instance: page.instance })}`);
  showMarkers();
  page.results = [];
  $("results").tBodies[0].replaceChildren();
  const results = await getJSON(`/api/results?${new URLSearchParams({
    instance: page.instance, limit: 50 })}`);
  for (const result of results.reverse()) addResult(result);
  page.trades = new Map();
  const trades = await getJSON(`/api/trades?${new URLSearchParams({
    instance: page.instance, limit: 200 })}`);
  for (const trade of trades) addTrade(trade);
  renderState(page.instance ? await getJSON(`/api/state/${page.instance}`).catch(() => null)
                            : null);
  listen();
}

async function main() {
  const params = new URLSearchParams(location.search);
  const [symbols, instances] = await Promise.all([getJSON("/api/symbols"),
                                                  getJSON("/api/instances")]);
  fill($("symbol"), symbols, params.get("symbol") || "EURUSD");
  fill($("instance"), ["", ...instances.map((i) => i.instance)],
       params.get("instance") ?? instances[0]?.instance);
  $("resolution").value = params.get("resolution") || "1S";
  Object.assign(page, EaflowCandles.create($("chart")));
  for (const id of ["symbol", "instance", "resolution"]) $(id).addEventListener("change", load);
  await load();
  page.ready = true;
}

main().catch((error) => {
  $("status").textContent = `error: ${error.message}`;
  page.error = String(error);
});
