/* The supervisor's live queue board over /ws/supervisor
   (docs/websocket.md#supervisor-console-wssupervisor): a snapshot, then full queue and
   agent entries as they change (coalesced by the server each second). Times count on
   locally from each entry's `at`. */
"use strict";

(() => {
  const { $, el } = CC;
  const TOKEN_KEY = "cc.board.token";
  const STATES = ["available", "offered", "on_call", "wrap_up", "paused", "logged_out"];
  const WINDOW_LABELS = { "15m": "last 15 min", today: "today", "24h": "last 24 h" };

  let token = null;
  let queues = new Map(); // name -> queue entry (+ at)
  let agents = new Map(); // username -> agent entry (+ at)
  let restCalls = []; // calls in progress from GET /api/v1/calls
  let alerts = new Map(); // CC.alertKey -> ticket alert (docs/websocket.md#ticket-alerts)
  const MAX_ALERTS = 100;
  const ALERTS_REFRESH_MS = 60000; // resolved tickets leave the panel within a minute

  const connection = new CC.Connection("/ws/supervisor", {
    onHello(hello) {
      $("#who").textContent = hello.username;
    },
    onMessage: receive,
    onStatus: CC.setConnStatus,
    onAuthLost(code, reason) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(`session ended (${code}): ${reason || "sign in again"}`);
    },
    onReplaced() {
      $("#reconnect").hidden = false;
    },
  });

  function receive(message) {
    switch (message.type) {
      case "snapshot":
        queues = new Map(message.queues.map((q) => [q.name, { ...q, at: message.at }]));
        agents = new Map(message.agents.map((a) => [a.username, { ...a, at: message.at }]));
        setAlerts(message.ticket_alerts);
        renderAll();
        break;
      case "ticket_alert":
        alerts.set(CC.alertKey(message), message);
        while (alerts.size > MAX_ALERTS) alerts.delete(oldestAlert());
        renderAlerts();
        break;
      case "queue":
        queues.set(message.name, message);
        renderQueues();
        renderChoices();
        scheduleCallsRefresh(); // a queue changed: calls may have come or gone
        break;
      case "agent":
        agents.set(message.username, message);
        renderAgents();
        renderChoices();
        break;
      case "error":
        CC.errorToast(message, "");
        break;
      default:
        break; // unknown types are ignored (protocol versioning)
    }
  }

  // ----- rendering -----

  function slClass(value, target) {
    if (value === null || value === undefined) return "sl-none";
    return value + 1e-9 >= target ? "sl-good" : "sl-bad";
  }

  function metric(label, value, attrs = {}) {
    return el("div", { class: "metric", ...attrs }, el("div", { class: "value", text: value }), el("div", { class: "label", text: label }));
  }

  function queueCard(q) {
    const target = q.service_level_target;
    const sl15 = q.windows["15m"].service_level;
    const slToday = q.windows.today.service_level;
    const rows = [
      ["Service level", (w) => el("span", { class: slClass(w.service_level, target), text: CC.percent(w.service_level) })],
      ["ASA", (w) => CC.seconds(w.asa_seconds)],
      ["AHT", (w) => CC.duration(w.aht_seconds)],
      ["Answered", (w) => w.answered],
      ["Abandoned", (w) => w.abandoned],
    ];
    const windows = Object.keys(WINDOW_LABELS).filter((k) => q.windows[k]);
    const card = el(
      "article",
      { class: "panel queue", dataset: { queue: q.name } },
      el("h2", { text: q.name }),
      el(
        "div",
        { class: "headline" },
        metric("waiting", q.waiting, { class: `metric waiting${q.waiting > 0 ? " alert" : ""}`, dataset: { field: "waiting" } }),
        metric("longest wait", "", { dataset: { field: "longest" } }),
        el(
          "div",
          { class: "metric", dataset: { field: "sl15m" } },
          el("div", { class: `value ${slClass(sl15, target)}`, text: CC.percent(sl15) }),
          el("div", { class: "label", text: "service level 15 min" }),
        ),
        el(
          "div",
          { class: "metric", dataset: { field: "sltoday" } },
          el("div", { class: `value ${slClass(slToday, target)}`, text: CC.percent(slToday) }),
          el("div", { class: "label", text: "service level today" }),
        ),
      ),
      el(
        "table",
        { class: "figures" },
        el("thead", {}, el("tr", {}, el("th", { text: "" }), windows.map((k) => el("th", { text: WINDOW_LABELS[k] })))),
        el("tbody", {}, rows.map(([name, cell]) => el("tr", {}, el("th", { text: name }), windows.map((k) => el("td", {}, cell(q.windows[k])))))),
      ),
      el(
        "div",
        { class: "muted" },
        `target ${CC.percent(target)} within ${Math.round(q.service_level_seconds)} s · since start: offered ${q.offered}, answered ${q.answered}, abandoned ${q.abandoned}`,
        q.callbacks_waiting ? ` · callbacks waiting ${q.callbacks_waiting}` : "",
      ),
      el(
        "div",
        { class: "chips", dataset: { field: "agents" } },
        STATES.filter((s) => q.agents[s]).map((s) =>
          el("span", { class: `state ${s}`, dataset: { state: s, count: q.agents[s] }, text: `${CC.stateLabel(s)} ${q.agents[s]}` }),
        ),
        STATES.every((s) => !q.agents[s]) ? el("span", { class: "muted", text: "no agents" }) : null,
      ),
    );
    card._queue = q;
    return card;
  }

  function renderQueues() {
    $("#queues").replaceChildren(...[...queues.values()].map(queueCard));
    tick();
  }

  function callText(call) {
    if (!call) return "–";
    return [call.caller, call.queue, call.phase].filter(Boolean).join(" · ");
  }

  function renderAgents() {
    const rows = [...agents.values()]
      .sort((a, b) => a.username.localeCompare(b.username))
      .map((a) => {
        const row = el(
          "tr",
          { dataset: { agent: a.username, state: a.state } },
          el("td", { text: a.username }),
          el(
            "td",
            {},
            el("span", { class: `state ${a.state}`, text: CC.stateLabel(a.state) }),
            a.reason ? el("span", { class: "muted", text: ` ${a.reason}` }) : null,
            a.pending_state ? el("span", { class: "muted", text: ` → ${CC.stateLabel(a.pending_state)}` }) : null,
          ),
          el("td", { class: "num", dataset: { field: "time" } }),
          el("td", { text: callText(a.call), title: a.call ? a.call.call_id : "" }),
          el("td", { text: a.queues.join(", ") }),
          el("td", { class: a.console ? "console-on" : "console-off", text: a.console ? "● on" : "○ off" }),
        );
        row._agent = a;
        return row;
      });
    $("#agents").replaceChildren(...rows);
    tick();
  }

  function keepChoice(select, options) {
    const previous = select.value;
    select.replaceChildren(...options.map(([value, text]) => el("option", { value, text })));
    if (options.some(([value]) => value === previous)) select.value = previous;
  }

  function renderChoices() {
    keepChoice($("#force-agent"), [...agents.keys()].sort().map((u) => [u, u]));
    const calls = new Map();
    for (const a of agents.values()) {
      if (a.call && a.call.phase !== "ended") calls.set(a.call.call_id, `${a.call.caller || "?"} · ${a.call.phase} → ${a.username}`);
    }
    for (const c of restCalls) {
      if (!calls.has(c.id)) calls.set(c.id, `${c.caller || "?"} · ${c.queue || "?"}${c.agent ? ` → ${c.agent}` : " · waiting"}`);
    }
    keepChoice($("#move-call"), [...calls.entries()]);
    const kind = $("#move-kind").value;
    keepChoice($("#move-target"), kind === "queue" ? [...queues.keys()].map((n) => [n, n]) : [...agents.keys()].sort().map((u) => [u, u]));
  }

  /** The open alerts as the server read them; null (not read in time): keep ours. */
  function setAlerts(list) {
    if (!Array.isArray(list)) return;
    alerts = new Map(list.map((a) => [CC.alertKey(a), a]));
  }

  function oldestAlert() {
    let oldest = null;
    for (const [key, a] of alerts) if (oldest === null || a.at < alerts.get(oldest).at) oldest = key;
    return oldest;
  }

  function renderAlerts() {
    const list = CC.sortAlerts(alerts.values());
    $("#alerts").replaceChildren(...list.map(CC.alertItem));
    $("#alerts-count").textContent = String(list.length);
    $("#alerts-count").className = `alerts-count ${list.length ? (list[0].kind === "sla_breach" ? "bad" : "warn") : ""}`;
    $("#alerts-none").hidden = list.length > 0;
  }

  async function refreshAlerts() {
    if (!connection.ready) return;
    const reply = await connection.request("get_snapshot", {});
    if (reply.type === "ok") {
      setAlerts(reply.result.ticket_alerts);
      renderAlerts();
    }
  }

  function renderAll() {
    renderAlerts();
    renderQueues();
    renderAgents();
    renderChoices();
  }

  function tick() {
    const now = CC.serverNow();
    $("#clock").textContent = new Date().toLocaleTimeString([], { hour12: false });
    for (const card of document.querySelectorAll("#queues .queue")) {
      const q = card._queue;
      const longest = q.waiting > 0 ? q.longest_wait_seconds + Math.max(0, now - q.at) : 0;
      const box = $("[data-field=longest]", card);
      $(".value", box).textContent = CC.duration(longest);
      box.classList.toggle("alert", longest > q.service_level_seconds);
    }
    for (const row of document.querySelectorAll("#agents tr")) {
      $("[data-field=time]", row).textContent = CC.duration(now - row._agent.since);
    }
  }

  // ----- actions -----

  async function send(type, fields, what) {
    const reply = await connection.request(type, fields);
    if (reply.type === "error") {
      CC.errorToast(reply, what);
      return null;
    }
    return reply.result;
  }

  let refreshTimer = null;

  function scheduleCallsRefresh() {
    if (refreshTimer === null) {
      refreshTimer = setTimeout(() => {
        refreshTimer = null;
        refreshCalls();
      }, 2000);
    }
  }

  async function refreshCalls() {
    if (!token) return;
    const body = await CC.api("/api/v1/calls?limit=50", token);
    restCalls = body && Array.isArray(body.calls) ? body.calls.filter((c) => !c.ended_at) : [];
    renderChoices();
  }

  function wire() {
    $("#force-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const agent = $("#force-agent").value;
      const state = $("#force-state").value;
      const fields = { agent, state };
      if (state === "paused") fields.reason = $("#force-reason").value;
      const result = await send("force_state", fields, `force ${agent} ${state}`);
      if (result) CC.toast("ok", "", `${agent} is now ${CC.stateLabel(result.state)}${result.pending_state ? ` (pending ${CC.stateLabel(result.pending_state)})` : ""}`);
    });
    $("#move-kind").addEventListener("change", renderChoices);
    $("#move-refresh").addEventListener("click", refreshCalls);
    $("#move-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const callId = $("#move-call").value;
      const target = $("#move-target").value;
      const kind = $("#move-kind").value;
      if (!callId || !target) {
        CC.toast("error", "invalid_field", "choose a call and a target");
        return;
      }
      if (await send("move_call", { call_id: callId, [kind]: target }, `move call ${callId}`)) {
        CC.toast("ok", "", `call moved to ${kind} ${target}`);
      }
    });
    $("#signout").addEventListener("click", () => {
      connection.stop();
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin("");
    });
    $("#reconnect").addEventListener("click", () => {
      $("#reconnect").hidden = true;
      if (token) connection.start(token);
    });
    CC.loginForm($("#login-form"), ["supervisor", "admin"], (fresh) => {
      sessionStorage.setItem(TOKEN_KEY, fresh);
      start(fresh);
    });
  }

  function showLogin(message) {
    token = null;
    $("#board").hidden = true;
    $("#signout").hidden = true;
    $("#login").hidden = false;
    $("#login-error").textContent = message;
    $("#who").textContent = "";
  }

  function start(fresh) {
    token = fresh;
    $("#login").hidden = true;
    $("#board").hidden = false;
    $("#signout").hidden = false;
    connection.start(fresh);
    refreshCalls();
  }

  wire();
  setInterval(tick, 500);
  setInterval(() => refreshAlerts().catch(() => {}), ALERTS_REFRESH_MS);
  const stored = CC.storedToken(TOKEN_KEY);
  if (stored) start(stored);
  else showLogin("");
})();
