// Acting on every instance at once (console.html's #allbar), after console.js: halt, reduce
// or resume all (POST /console/api/trading_state with all: one configuration version per
// instance) and close everything, or one symbol, on every instance (one close_all signal
// naming each); confirmed first, the outcome per instance shown as it arrives.
"use strict";

function onEveryInstance(event) {
  const made = event.target.closest("button.all-state, button.all-close");
  if (!made || made.disabled) return;
  const count = state.rows.size;
  if (made.classList.contains("all-state")) {
    const act = made.dataset.state;
    const verb = { halted: "Halt", reducing: "Reduce", active: "Resume" }[act];
    ask(`${verb} all ${count} instances?`, () => changeTrading("all", true, act));
    return;
  }
  const symbol = $("all-symbol").value.trim();
  ask(`Close ${symbol ? `all ${symbol}` : "everything"} on all ${count} instances?`,
    () => closeAll(symbol ? { all: true, symbol } : { all: true }));
}

$("allbar").addEventListener("click", onEveryInstance);
