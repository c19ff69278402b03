// The console's configuration panel: one instance's configuration in force, each field with
// its value and its source (instance, global, default), and the changes of its scope and of
// the global scope (GET /console/api/config/{instance}); or the global scope's (source global
// or default) and its changes (GET /console/api/config). An admin sets a field or unsets it
// (the global value or the default applies again), PATCH validated by the configuration
// service, after confirming. The panel's scope: an instance id, or null for the global one.
// Loaded before console.js, whose helpers ($, call, ask, say, showAdmin, state) it uses once
// the page is loaded; `window.eaflowConsole.config` holds what the panel shows.
"use strict";

const CONFIG_LISTS = ["allowed_symbols", "allowed_sources", "allowed_sessions"];

// The Config button of an account's row (console.js puts it in the row's actions).
function configButton() {
  const made = document.createElement("button");
  made.textContent = "Config";
  made.title = "Configuration: each value with its source, and its changes";
  made.className = "config";
  return made;
}

function configText(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

// A typed value as `eaflow config set` reads one: JSON for lists, objects, quoted text,
// true/false/null; comma-separated text for the list fields; else the text itself (the
// service turns "5" into 5 and "0.1" into an exact decimal).
function configValue(field, text) {
  const typed = text.trim();
  if (/^[[{"]/.test(typed) || ["true", "false", "null"].includes(typed)) {
    return JSON.parse(typed);
  }
  if (CONFIG_LISTS.includes(field)) return typed.split(",").map((s) => s.trim()).filter(Boolean);
  return typed;
}

function configCells(tr, values, classes = []) {
  for (const [index, value] of values.entries()) {
    const td = tr.insertCell();
    td.textContent = value;
    td.className = classes[index] ?? "text";
  }
}

function configUrl(instance) {
  return instance === null ? "/console/api/config"
    : `/console/api/config/${encodeURIComponent(instance)}`;
}

function configLabel(instance) {
  return instance ?? "the global configuration";
}

async function configLoad(instance) {
  let shown;
  try {
    shown = await call("GET", configUrl(instance));
  } catch (error) {
    say([`${configLabel(instance)}: ${error.message}`]);
    return;
  }
  state.config = { ...shown, instance };
  const own = instance === null ? "global" : "instance"; // what Inherit unsets
  const fields = document.createDocumentFragment();
  for (const field of shown.fields) {
    const tr = fields.appendChild(document.createElement("tr"));
    tr.dataset.field = field.field;
    tr.dataset.source = field.source;
    configCells(tr, [field.field, configText(field.value), field.source],
      ["text", "text", `text src-${field.source}`]);
    const edit = document.createElement("button");
    edit.textContent = "Edit";
    edit.className = "admin config-edit";
    const actions = tr.insertCell();
    actions.append(edit);
    if (field.source === own) {
      const inherit = document.createElement("button");
      inherit.textContent = instance === null ? "Default" : "Inherit";
      inherit.className = "admin config-unset";
      inherit.title = instance === null ? "unset in the global scope: the default applies"
        : "unset in this instance's scope: the global value or the default applies";
      actions.append(" ", inherit);
    }
  }
  $("config-fields").tBodies[0].replaceChildren(fields);
  const history = document.createDocumentFragment();
  for (const change of shown.history) {
    const tr = history.appendChild(document.createElement("tr"));
    configCells(tr, [change.version, change.at.replace("T", " ").slice(0, 19), change.scope,
      change.actor, JSON.stringify(change.change), change.note], ["", "text", "text", "text",
      "text change", "text"]);
  }
  $("config-history").tBodies[0].replaceChildren(history);
  $("config-name").textContent = instance ?? "global";
  $("config-changes").textContent = instance === null ? "Changes of the global scope"
    : `Changes of ${instance} and global`;
  $("config-version").textContent = `version ${shown.version}` + (instance === null ? ""
    : shown.applied === null ? " (the instance has not reported applying one)"
      : ` (the instance applies ${shown.applied})`);
  $("config").hidden = false;
  showAdmin();
}

function configChange(instance, body, what) {
  return async () => {
    try {
      const done = await call("PATCH", configUrl(instance), body);
      say([`${instance ?? "global"}: ${what} (configuration version ${done.version}${
        done.published ? "" : `, stored but not published: ${done.error}`})`]);
    } catch (error) {
      say([`refused: ${error.message}`]);
    }
    await configLoad(instance);
  };
}

function configOpen(event) {
  const made = event.target.closest("button.config");
  if (!made) return;
  configLoad(made.closest("tr").dataset.instance).then(() => $("config").scrollIntoView());
}

function configSet(event) {
  event.preventDefault();
  const form = $("config-form");
  const instance = state.config?.instance;
  const field = form.elements.field.value.trim();
  if (!state.config || !field || form.querySelector("button.config-set").disabled) return;
  let value;
  try {
    value = configValue(field, form.elements.value.value);
  } catch (error) {
    say([`${field}: not valid JSON: ${error.message}`]);
    return;
  }
  const text = configText(value);
  ask(`Set ${field} of ${configLabel(instance)} to ${text}?`,
    configChange(instance, { set: { [field]: value } }, `${field} set to ${text}`));
}

function configRow(event) {
  const made = event.target.closest("button.config-edit, button.config-unset");
  if (!made || made.disabled) return;
  const field = made.closest("tr").dataset.field;
  const instance = state.config.instance;
  if (made.classList.contains("config-unset")) {
    if (instance === null) {
      ask(`Make ${field} of the global configuration its default (unset it in the global scope)?`,
        configChange(null, { unset: [field] }, `${field} back to its default`));
    } else {
      ask(`Make ${field} of ${instance} inherit (unset it in the instance's scope)?`,
        configChange(instance, { unset: [field] }, `${field} inherited`));
    }
    return;
  }
  const form = $("config-form");
  form.elements.field.value = field;
  form.elements.value.value = configText(state.config.fields.find((f) => f.field === field).value);
  form.elements.value.focus();
}

document.addEventListener("DOMContentLoaded", () => {
  $("accounts").addEventListener("click", configOpen);
  $("config-global").addEventListener("click",
    () => configLoad(null).then(() => $("config").scrollIntoView()));
  $("config-fields").addEventListener("click", configRow);
  $("config-form").addEventListener("submit", configSet);
  $("config-close").addEventListener("click", () => {
    state.config = null;
    $("config").hidden = true;
  });
});
