// The eaflow operator console: every instance's row, live from /console/api/live (one
// shared reader in the gateway); admins halt, reduce or resume an instance or a group (all
// instances: console-all.js), close a position (or part of it), set its SL/TP, move a
// pending order (price, SL/TP) or cancel it, close all of a group, and retry or purge dead
// letters; anyone reads the result log and the realised P&L (filtered, CSV).
// `window.eaflowConsole` holds the page state (read by the browser test).
"use strict";

const $ = (id) => document.getElementById(id);
const state = (window.eaflowConsole = {
  rows: new Map(), admin: null, ready: false, error: null, sort: { key: "instance", dir: 1 },
  firstRender: null, // ms from navigation to the first table with every row
  pending: null, outcome: [], dlq: [], account: null, positions: [], orders: [],
  results: [], pnl: [], today: new Map(), // today's realised P&L (UTC) per instance
});
const MONEY = ["balance", "equity", "floating"];

async function call(method, url, body, headers = {}) {
  const options = { method, headers: { ...headers }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = answer.detail ?? answer;
    const text = typeof detail === "string" ? detail : detail.error ?? JSON.stringify(detail);
    throw new Error(`${response.status} ${text}`);
  }
  return answer;
}

function shown(value, digits = 2) {
  if (value === null || value === undefined) return "–";
  return typeof value === "number" ? value.toFixed(digits) : String(value);
}

function age(ts) {
  if (!ts) return "never";
  const seconds = Math.max(0, Date.now() / 1000 - ts);
  return seconds < 120 ? `${seconds.toFixed(0)} s ago` : `${(seconds / 60).toFixed(0)} min ago`;
}

function matches(row, words) {
  const text = `${row.instance} ${row.groups.join(" ")} ${row.status}`.toLowerCase();
  return words.every((word) => text.includes(word));
}

function visibleRows() {
  const words = $("filter").value.toLowerCase().split(/\s+/).filter(Boolean);
  const { key, dir } = state.sort;
  const value = (row) => (key === "groups" ? row.groups.join(",") : row[key]);
  return [...state.rows.values()]
    .filter((row) => matches(row, words))
    .sort((a, b) => {
      const x = value(a), y = value(b);
      if (x === y) return a.instance < b.instance ? -1 : 1;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * dir;
    });
}

function button(label, act, instance) {
  const made = document.createElement("button");
  made.textContent = label;
  made.className = "admin";
  made.dataset.act = act;
  made.dataset.target = "instance";
  made.dataset.instance = instance;
  return made;
}

// Rows are kept and updated in place (keyed by instance), and moved only when the order
// changes: a button is never replaced under the operator's pointer by a refresh.
const shownRows = new Map();

function accountRow(row) {
  let tr = shownRows.get(row.instance);
  if (!tr) {
    tr = document.createElement("tr");
    tr.dataset.instance = row.instance;
    for (let index = 0; index < 11; index++) tr.insertCell().className = index < 3 ? "text" : "";
    const open = document.createElement("button");
    open.textContent = "Positions";
    open.className = "positions";
    tr.insertCell().append(
      open, " ", button("Halt", "halted", row.instance), " ",
      button("Resume", "active", row.instance),
    );
    tr.cells[11].append(" ", configButton()); // console-config.js
    shownRows.set(row.instance, tr);
  }
  tr.dataset.status = row.status;
  const values = [
    row.instance, row.groups.join(", "), row.status, shown(row.balance), shown(row.equity),
    shown(row.margin_level, 1), shown(row.floating), shown(state.today.get(row.instance)),
    shown(row.positions, 0), shown(row.orders, 0), age(row.heartbeat),
  ];
  for (const [index, value] of values.entries()) {
    if (tr.cells[index].textContent !== value) tr.cells[index].textContent = value;
  }
  tr.cells[2].className = `text ${row.status.replace(" ", "-")}`;
  tr.cells[10].title = row.error ?? "";
  return tr;
}

function render() {
  state.renderQueued = false;
  for (const instance of shownRows.keys()) {
    if (!state.rows.has(instance)) shownRows.delete(instance);
  }
  const rows = visibleRows().map(accountRow);
  const body = $("accounts").tBodies[0];
  const current = [...body.children];
  if (current.length !== rows.length || current.some((tr, index) => tr !== rows[index])) {
    body.replaceChildren(...rows);
  }
  $("count").textContent = `${rows.length} of ${state.rows.size} instances`;
  if (state.ready && !state.firstRender) state.firstRender = performance.now();
  showGroups();
  showAdmin();
}

function queueRender() {
  if (!state.renderQueued) {
    state.renderQueued = true;
    requestAnimationFrame(render);
  }
}

function showGroups() {
  const select = $("group");
  const groups = [...new Set([...state.rows.values()].flatMap((row) => row.groups))].sort();
  if (groups.join("\n") === [...select.options].map((o) => o.value).join("\n")) return;
  const chosen = select.value;
  select.replaceChildren(...groups.map((group) => new Option(group, group)));
  if (groups.includes(chosen)) select.value = chosen;
}

function showAdmin() {
  const admin = Boolean(state.admin);
  for (const made of document.querySelectorAll("button.admin, input.stop, input.admin")) {
    made.disabled = !admin;
    made.title = admin ? "" : "admins only: sign in with an admin source's secret";
  }
  $("who").textContent = admin ? `admin (${state.admin})` : "viewer";
  $("signin").hidden = admin;
  $("signout").hidden = !admin;
}

function connect() {
  const events = new EventSource("/console/api/live");
  events.addEventListener("open", () => {
    $("status").textContent = "live";
    $("status").className = "status live";
  });
  events.addEventListener("error", () => {
    $("status").textContent = "reconnecting…";
    $("status").className = "status";
  });
  events.addEventListener("snapshot", (message) => {
    state.rows = new Map(JSON.parse(message.data).rows.map((row) => [row.instance, row]));
    state.ready = true;
    queueRender();
  });
  events.addEventListener("rows", (message) => {
    const { rows, removed } = JSON.parse(message.data);
    for (const row of rows) state.rows.set(row.instance, row);
    if (rows.some((row) => row.instance === state.account)) loadPositions();
    for (const instance of removed) state.rows.delete(instance);
    queueRender();
  });
  state.events = events;
}

function ask(text, work) {
  state.pending = work;
  $("confirm-text").textContent = text;
  $("confirm").hidden = false;
}

function say(lines) {
  state.outcome = lines;
  $("outcome").textContent = lines.join("\n");
}

async function changeTrading(target, name, act) {
  try {
    const outcomes = await call("POST", "/console/api/trading_state", { [target]: name, state: act });
    say(outcomes.map((o) => `${o.instance}: ${
      o.version === null ? `not changed: ${o.error}`
        : o.published ? `${act} (configuration version ${o.version})`
          : `version ${o.version} stored, not published: ${o.error}`}`));
  } catch (error) {
    say([`refused: ${error.message}`]);
  }
}

function onAction(event) {
  const made = event.target.closest("button.admin[data-act]");
  if (!made || made.disabled) return;
  const act = made.dataset.act;
  const verb = { halted: "Halt", reducing: "Reduce", active: "Resume" }[act];
  if (made.dataset.target === "group") {
    const group = $("group").value;
    const count = [...state.rows.values()].filter((row) => row.groups.includes(group)).length;
    ask(`${verb} group ${group} (${count} instances)?`, () => changeTrading("group", group, act));
  } else {
    const instance = made.dataset.instance;
    ask(`${verb} ${instance}?`, () => changeTrading("instance", instance, act));
  }
}

const TYPES = { 0: "buy", 1: "sell" };
const ORDER_TYPES = {
  2: "buy limit", 3: "sell limit", 4: "buy stop", 5: "sell stop",
  6: "buy stop limit", 7: "sell stop limit",
};

// Like the accounts, trade rows are kept by ticket and updated in place.
function keepRows(table, items, make, update) {
  const kept = new Map([...table.tBodies[0].children].map((tr) => [tr.dataset.ticket, tr]));
  const rows = items.map((item) => {
    const tr = kept.get(String(item.ticket)) ?? make(item);
    update(tr, item);
    return tr;
  });
  const current = [...table.tBodies[0].children];
  if (current.length !== rows.length || current.some((tr, index) => tr !== rows[index])) {
    table.tBodies[0].replaceChildren(...rows);
  }
}

function tradeRow(ticket, cells) {
  const tr = document.createElement("tr");
  tr.dataset.ticket = ticket;
  for (let index = 0; index < cells; index++) {
    tr.insertCell().className = index === 1 || index === 2 ? "text" : "";
  }
  return tr;
}

function setCells(tr, values) {
  for (const [index, value] of values.entries()) {
    if (value === null) continue;
    const text = String(value);
    if (tr.cells[index].textContent !== text) tr.cells[index].textContent = text;
  }
}

function adminButton(label, kind) {
  const made = document.createElement("button");
  made.textContent = label;
  made.className = `admin ${kind}`;
  return made;
}

function stopInput(kind, value) {
  const input = document.createElement("input");
  input.className = `stop ${kind}`;
  input.type = "number";
  input.min = "0";
  input.step = "any";
  input.value = value || 0;
  input.setAttribute("aria-label", kind === "price" ? "price" : kind.toUpperCase());
  return input;
}

// The broker's new values into a row's fields (price, sl, tp), unless one is being typed over.
function keepInputs(tr, values) {
  for (const [kind, value] of Object.entries(values)) {
    const input = tr.querySelector(`input.${kind}`);
    if (tr.dataset[kind] !== String(value) && document.activeElement !== input) {
      input.value = value || 0;
    }
    tr.dataset[kind] = String(value);
  }
}

function volumeInput() {
  const input = document.createElement("input");
  input.className = "admin volume";
  input.type = "number";
  input.min = "0";
  input.step = "any";
  input.placeholder = "all";
  input.setAttribute("aria-label", "lots to close (empty: all)");
  return input;
}

async function loadPositions() {
  const instance = state.account;
  let account = { positions: [], orders: [] };
  try {
    account = await call("GET", `/api/state/${encodeURIComponent(instance)}`);
  } catch (error) {
    say([`${instance}: ${error.message}`]);
  }
  if (instance !== state.account) return;
  state.positions = account.positions;
  state.orders = account.orders;
  keepRows($("positions"), account.positions, (p) => {
    const tr = tradeRow(p.ticket, 9);
    tr.cells[5].append(stopInput("sl", p.sl));
    tr.cells[6].append(stopInput("tp", p.tp));
    tr.insertCell().append(adminButton("Set SL/TP", "sltp"), " ", volumeInput(), " ",
      adminButton("Close", "close"));
    return tr;
  }, (tr, p) => {
    setCells(tr, [p.ticket, p.symbol, TYPES[p.type] ?? p.type, p.volume, p.price_open, null,
      null, p.price_current, shown(p.profit)]);
    keepInputs(tr, { sl: p.sl, tp: p.tp });
  });
  keepRows($("orders"), account.orders, (o) => {
    const tr = tradeRow(o.ticket, 7);
    tr.cells[4].append(stopInput("price", o.price_open));
    tr.cells[5].append(stopInput("sl", o.sl));
    tr.cells[6].append(stopInput("tp", o.tp));
    tr.insertCell().append(adminButton("Modify", "modify"), " ", adminButton("Cancel", "cancel"));
    return tr;
  }, (tr, o) => {
    setCells(tr, [o.ticket, o.symbol, ORDER_TYPES[o.type] ?? o.type, o.volume]);
    keepInputs(tr, { price: o.price_open, sl: o.sl, tp: o.tp });
  });
  $("account-name").textContent = instance;
  $("account").hidden = false;
  showAdmin();
}

async function onPositions(event) {
  const made = event.target.closest("button.positions");
  if (!made) return;
  const instance = made.closest("tr").dataset.instance;
  if (instance !== state.account) {
    $("positions").tBodies[0].replaceChildren();
    $("orders").tBodies[0].replaceChildren();
  }
  state.account = instance;
  await loadPositions();
}

function trade(path, body, what) {
  return async () => {
    let sent;
    try {
      sent = await call("POST", `/console/api/${path}`, body);
    } catch (error) {
      say([`refused: ${error.message}`]);
      return;
    }
    say([`${body.instance}: ${what} sent (signal ${sent.signal_id}), waiting for its result…`]);
    const [result] = await awaitResults(sent.signal_id, 1, { instance: body.instance });
    const part = body.volume ? `${body.volume} lots of ` : "";
    say([result
      ? `${body.instance}: ${part}${body.ticket} ${result.status}${result.error ? `: ${result.error}` : ""}`
      : `${body.instance}: no result for signal ${sent.signal_id} within 30 s`]);
    await loadPositions();
  };
}

// The results of `signalId` (of `instance`, or of any), read every 500 ms until `count`
// arrived or 30 s passed; `each` sees those arrived so far after every read.
async function awaitResults(signalId, count, { instance = "", each = () => {} } = {}) {
  const found = new Map();
  const query = instance ? `instance=${encodeURIComponent(instance)}` : "limit=1000";
  for (let n = 0; n < 60 && found.size < count; n++) {
    for (const r of await call("GET", `/api/results?${query}`)) {
      if (r.signal_id === signalId) found.set(r.result_id, r);
    }
    each([...found.values()]);
    if (found.size < count) await new Promise((done) => setTimeout(done, 500));
  }
  return [...found.values()];
}

function onCloseAll(event) {
  const made = event.target.closest("button.closeall");
  if (!made || made.disabled) return;
  const group = $("group").value;
  const symbol = $("group-symbol").value.trim();
  const count = [...state.rows.values()].filter((row) => row.groups.includes(group)).length;
  const what = symbol ? `all ${symbol}` : "everything";
  ask(`Close ${what} in group ${group} (${count} instances)?`,
    () => closeAll(symbol ? { group, symbol } : { group }));
}

async function closeAll(body) {
  let sent;
  try {
    sent = await call("POST", "/console/api/close_all", body);
  } catch (error) {
    say([`refused: ${error.message}`]);
    return;
  }
  const count = sent.instances.length;
  await awaitResults(sent.signal_id, count, {
    each: (results) => say([
      `close all: ${results.length} of ${count} results`,
      ...results.map((r) => `${r.instance}: ${r.status}${r.error ? `: ${r.error}` : ""}`).sort(),
    ]),
  });
  if (state.account) await loadPositions();
}

function onTrade(event) {
  const made = event.target.closest("button.close, button.sltp, button.modify, button.cancel");
  if (!made || made.disabled) return;
  const row = made.closest("tr");
  const body = { instance: state.account, ticket: Number(row.dataset.ticket) };
  if (made.classList.contains("close")) {
    const volume = row.querySelector("input.volume").value.trim(); // empty: the whole position
    if (volume) body.volume = volume;
    ask(`Close ${volume ? `${volume} lots of ` : ""}position ${body.ticket} of ${body.instance}?`,
      trade("close", body, "close"));
  } else if (made.classList.contains("cancel")) {
    ask(`Cancel order ${body.ticket} of ${body.instance}?`, trade("cancel", body, "cancel"));
  } else if (made.classList.contains("modify")) {
    const move = {
      ...body,
      price: row.querySelector("input.price").value || "0",
      stop_loss: row.querySelector("input.sl").value || "0",
      take_profit: row.querySelector("input.tp").value || "0",
    };
    ask(`Move order ${body.ticket} of ${body.instance} to ${move.price} (SL ${move.stop_loss}, ` +
      `TP ${move.take_profit})?`, trade("modify", move, "modify"));
  } else {
    const stops = {
      ...body,
      stop_loss: row.querySelector("input.sl").value || "0",
      take_profit: row.querySelector("input.tp").value || "0",
    };
    ask(`Set SL ${stops.stop_loss} and TP ${stops.take_profit} on ${body.ticket} of ${body.instance}?`,
      trade("sltp", stops, "SL/TP"));
  }
}

async function loadDeadLetters() {
  try {
    state.dlq = await call("GET", "/console/api/dlq");
  } catch (error) {
    say([`dead letters: ${error.message}`]);
    return;
  }
  const body = document.createDocumentFragment();
  for (const queue of state.dlq) {
    for (const letter of queue.entries) {
      const tr = document.createElement("tr");
      tr.dataset.id = letter.id;
      tr.dataset.stream = queue.stream;
      const values = [
        queue.stream, letter.id, letter.group, letter.deliveries,
        new Date(letter.dead_at_ms).toISOString().replace("T", " ").slice(0, 19),
        letter.error, letter.data,
      ];
      for (const [index, value] of values.entries()) {
        const td = tr.insertCell();
        td.textContent = value;
        td.className = index === 6 ? "text data" : [0, 2, 5].includes(index) ? "text" : "";
        if (index === 6) td.title = letter.data;
      }
      const retry = document.createElement("button");
      retry.textContent = "Retry";
      retry.className = "admin retry";
      const purge = document.createElement("button");
      purge.textContent = "Purge";
      purge.className = "admin purge";
      tr.insertCell().append(retry, " ", purge);
      body.append(tr);
    }
  }
  $("dlq").tBodies[0].replaceChildren(body);
  showAdmin();
}

function filled(table, items, keys) {
  const body = document.createDocumentFragment();
  for (const item of items) {
    const tr = body.appendChild(document.createElement("tr"));
    for (const key of keys) {
      const td = tr.insertCell();
      const value = item[key];
      const exact = key === "price" || key === "volume"; // as the broker gave them
      td.textContent = typeof value !== "number" ? value ?? ""
        : exact ? String(value) : shown(value, key === "trades" ? 0 : 2);
      if (typeof value !== "number") td.className = "text";
    }
  }
  $(table).tBodies[0].replaceChildren(body);
}

async function loadToday() {
  const midnight = new Date();
  midnight.setUTCHours(0, 0, 0, 0);
  const since = midnight.toISOString().slice(0, 19);
  try {
    const rows = await call("GET", `/console/api/pnl?since=${since}`);
    state.today = new Map();
    for (const row of rows) {
      state.today.set(row.instance, (state.today.get(row.instance) ?? 0) + row.net);
    }
  } catch (error) {
    say([`today's P&L: ${error.message}`]);
  }
  queueRender();
}

async function loadResults(event) {
  event?.preventDefault();
  const query = new URLSearchParams();
  for (const [name, value] of new FormData($("results-filter"))) {
    if (value) query.set(name, value);
  }
  const pnlQuery = new URLSearchParams(
    [...query].filter(([name]) => ["instance", "strategy", "since", "until"].includes(name)));
  $("results-csv").href = `/console/api/results?${query}&format=csv`;
  $("pnl-csv").href = `/console/api/pnl?${pnlQuery}&format=csv`;
  try {
    state.results = await call("GET", `/console/api/results?${query}&limit=200`);
    state.pnl = await call("GET", `/console/api/pnl?${pnlQuery}`);
  } catch (error) {
    say([`results: ${error.message}`]);
    return;
  }
  filled("results", state.results, ["done_ts", "instance", "symbol", "action", "status",
    "source", "strategy", "price", "volume", "error"]);
  filled("pnl", state.pnl, ["day", "instance", "strategy", "trades", "gross", "costs", "net"]);
}

async function onDeadLetter(event) {
  const made = event.target.closest("button.retry, button.purge");
  if (!made || made.disabled) return;
  const { id, stream } = made.closest("tr").dataset;
  if (made.classList.contains("purge")) {
    ask(`Purge dead letter ${id} of ${stream} for good?`, async () => {
      try {
        const done = await call("POST", "/console/api/dlq/purge", { stream, ids: [id] });
        say([`${id}: purged (${done.deleted} deleted)`]);
      } catch (error) {
        say([`refused: ${error.message}`]);
      }
      await loadDeadLetters();
    });
    return;
  }
  ask(`Retry dead letter ${id} of ${stream}?`, async () => {
    try {
      const done = await call("POST", "/console/api/dlq/retry", { stream, ids: [id] });
      say(done.map((d) => `${d.id}: ${d.error ? `not retried: ${d.error}` : `retried as ${d.new_id}`}`));
    } catch (error) {
      say([`refused: ${error.message}`]);
    }
    await loadDeadLetters();
  });
}

async function signIn(event) {
  event.preventDefault();
  const secret = $("secret").value.trim();
  $("secret").value = "";
  try {
    state.admin = (await call("POST", "/console/api/session", undefined, {
      Authorization: `Bearer ${secret}`,
    })).admin;
    say([`signed in as ${state.admin}`]);
  } catch (error) {
    say([`sign-in refused: ${error.message}`]);
  }
  showAdmin();
}

async function signOut() {
  await call("DELETE", "/console/api/session").catch(() => null);
  state.admin = null;
  showAdmin();
}

async function main() {
  document.addEventListener("click", onAction);
  $("dlq").addEventListener("click", onDeadLetter);
  $("accounts").addEventListener("click", onPositions);
  $("account").addEventListener("click", onTrade);
  $("groupbar").addEventListener("click", onCloseAll);
  $("confirm-ok").addEventListener("click", async () => {
    const work = state.pending;
    state.pending = null;
    $("confirm").hidden = true;
    if (work) await work();
  });
  $("confirm-cancel").addEventListener("click", () => {
    state.pending = null;
    $("confirm").hidden = true;
  });
  $("filter").addEventListener("input", queueRender);
  $("signin").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  $("dlq-refresh").addEventListener("click", loadDeadLetters);
  $("results-filter").addEventListener("submit", loadResults);
  for (const th of document.querySelectorAll("#accounts th[data-key]")) {
    th.addEventListener("click", () => {
      const key = th.dataset.key;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      for (const other of th.parentElement.children) other.classList.remove("asc", "desc");
      th.classList.add(state.sort.dir > 0 ? "asc" : "desc");
      queueRender();
    });
  }
  state.admin = (await call("GET", "/console/api/session")).admin;
  showAdmin();
  connect();
  await loadDeadLetters();
  await loadResults();
  await loadToday();
  setInterval(queueRender, 1000); // heartbeat ages
  setInterval(loadToday, 30000);
}

main().catch((error) => {
  state.error = String(error);
  $("status").textContent = `error: ${error.message}`;
});
