/* The agent's softphone console over /ws/agent (docs/websocket.md#agent-console-wsagent).
   It shows the agent's state, the offer with its screen pop, and sends the call-control
   requests. A desk phone carries the audio, or, for an agent whose endpoint is the
   browser, this page does (audio.js over /ws/agent/audio, on the server holding the
   call: the push's audio_url). Every error reply shows as a toast naming its code
   (`not_supported` for accept when a SIP phone must answer, and for every call request
   on a server without call control). */
"use strict";

(() => {
  const { $, el } = CC;
  const TOKEN_KEY = "cc.agent.token";
  const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

  let agent = null; // the last state: {state, reason, since, pending_state, pending_reason, call_id}
  let call = null; // the live or last call shown
  let wrap = null; // {callId, endsAt, seconds}
  let afterCallId = null; // the call the wrap-up form and notes apply to
  let dtmfSent = "";
  let callControl = true;
  const alerts = new Map(); // CC.alertKey -> ticket alert of this agent's tickets (this session)
  const MAX_ALERTS = 20;
  const audio = new CCAudio.CallAudio(renderAudio);

  const connection = new CC.Connection("/ws/agent", {
    onHello(hello) {
      $("#who").textContent = hello.username;
      callControl = hello.call_control;
      const select = $("#pause-reason");
      select.replaceChildren(
        ...hello.pause_reasons.map((reason) => {
          const option = document.createElement("option");
          option.textContent = reason;
          return option;
        }),
      );
      const dispositions = $("#wu-disposition");
      dispositions.replaceChildren(
        new Option("–", ""),
        ...(hello.dispositions || []).map((code) => new Option(code.replaceAll("_", " "), code)),
      );
      // The server sends the state and the live call again: forget what may be stale.
      call = null;
      wrap = null;
      renderCall();
    },
    onMessage: receive,
    onStatus: CC.setConnStatus,
    onAuthLost(code, reason) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(`session ended (${code}): ${reason || "sign in again"}`);
    },
    onReplaced() {
      $("#reconnect").hidden = false;
      CC.toast("error", "replaced", "another console of this agent connected; this one stopped");
    },
  });

  // ----- pushes -----

  function receive(message) {
    switch (message.type) {
      case "state":
        setState(message);
        break;
      case "offer":
        call = {
          id: message.call_id,
          queue: message.queue,
          caller: message.caller,
          callback: message.callback,
          offerAt: message.at,
          ringTimeout: message.ring_timeout_seconds,
          waited: message.waited_seconds,
          ivr: message.ivr,
          pop: message.screen_pop,
          popPending: message.screen_pop_pending,
          popError: null,
          phase: "offered",
          held: false,
          connectedAt: null,
          waitSeconds: null,
          ended: null,
        };
        afterCallId = message.call_id;
        wrap = null;
        dtmfSent = "";
        fillWrapUpChoices();
        renderCall();
        renderPop();
        break;
      case "screen_pop":
        if (call && call.id === message.call_id) {
          call.pop = message.screen_pop;
          call.popPending = false;
          fillWrapUpChoices();
          renderPop();
        }
        break;
      case "call_connected":
        if (!call || call.id !== message.call_id) {
          call = { id: message.call_id, queue: message.queue, caller: null, pop: null, ivr: null, held: false };
        }
        call.phase = "connected";
        call.connectedAt = message.at;
        call.waitSeconds = message.wait_seconds;
        afterCallId = message.call_id;
        audio.open(connection.token, message.call_id, message.audio_url);
        renderCall();
        break;
      case "call_held":
        if (call && call.id === message.call_id) {
          call.held = message.held;
          renderCall();
        }
        break;
      case "transfer":
        if (call && call.id === message.call_id) {
          const over = ["completed", "cancelled", "failed"].includes(message.state);
          call.transfer = over ? null : { mode: message.mode, target: message.target, state: message.state };
          renderCall();
        }
        CC.toast(
          message.state === "failed" ? "error" : "ok",
          "",
          `${message.mode} transfer to ${message.target}: ${message.state}`,
        );
        break;
      case "call_ended":
        if (call && call.id === message.call_id) {
          call.phase = "ended";
          call.held = false;
          call.ended = { reason: message.reason, cause: message.cause, talk: message.talk_seconds };
          audio.close();
          renderCall();
        }
        break;
      case "wrap_up":
        wrap = { callId: message.call_id, endsAt: message.at + message.remaining_seconds, seconds: message.seconds };
        afterCallId = message.call_id;
        renderCall();
        break;
      case "ticket_alert":
        // An SLA warning or breach or a complaint escalation on one of this agent's tickets.
        alerts.delete(CC.alertKey(message));
        alerts.set(CC.alertKey(message), message);
        while (alerts.size > MAX_ALERTS) alerts.delete(alerts.keys().next().value);
        renderAlerts();
        CC.toast(`alert ${message.kind}`, CC.alertLabel(message), `#${message.ticket_id} ${message.subject || ""}`, CC.alertWhat(message));
        break;
      case "error":
        // Unsolicited (id null): e.g. screen_pop_failed for the ringing call.
        if (message.code === "screen_pop_failed" && call && call.id === message.call_id) {
          call.popPending = false;
          call.popError = message.message;
          renderPop();
        }
        CC.errorToast(message, message.call_id ? `call ${message.call_id}` : "");
        break;
      default:
        break; // clients ignore what they do not know (protocol versioning)
    }
  }

  function renderAlerts() {
    $("#my-alerts").replaceChildren(...CC.sortAlerts(alerts.values()).map(CC.alertItem));
    $("#my-alerts-box").hidden = alerts.size === 0;
  }

  function setState(view) {
    agent = view;
    if (view.state !== "wrap_up") wrap = null;
    const badge = $("#state");
    badge.className = `state big-state ${view.state}`;
    badge.dataset.state = view.state;
    badge.textContent = CC.stateLabel(view.state);
    $("#state-reason").textContent = view.reason ? `reason: ${view.reason}` : "";
    $("#pending").textContent = view.pending_state
      ? `after this call: ${CC.stateLabel(view.pending_state)}${view.pending_reason ? ` (${view.pending_reason})` : ""}`
      : "";
    renderCall();
    tick();
  }

  // ----- requests -----

  async function send(type, fields, what) {
    const reply = await connection.request(type, fields);
    if (reply.type === "error") {
      CC.errorToast(reply, what || type);
      return null;
    }
    return reply.result;
  }

  async function changeState(state, reason) {
    const fields = { state };
    if (reason) fields.reason = reason;
    const result = await send("set_state", fields, `set state ${state}`);
    if (result) setState(result);
  }

  async function callRequest(type, extra = {}) {
    if (!call) return null;
    return send(type, { call_id: call.id, ...extra }, `${type} call ${call.id}`);
  }

  async function identifyCaller(username) {
    // The reply and a screen_pop push both carry the caller's own screen pop.
    const result = await callRequest("identify_caller", { username });
    if (result && call && call.id === result.call_id) {
      call.pop = result.screen_pop;
      fillWrapUpChoices();
      renderPop();
    }
  }

  // ----- rendering -----

  function renderCall() {
    const status = $("#call-status");
    let phase = "idle";
    let text = "No call";
    if (call) {
      phase = call.phase === "connected" && call.held ? "held" : call.phase;
      text = {
        offered: "Incoming call",
        connected: "Connected",
        held: "On hold",
        ended: "Call ended",
      }[phase];
    }
    status.className = `call-status ${phase}`;
    status.dataset.phase = phase;
    status.textContent = text;
    const live = call && call.phase === "connected";
    $("#accept").disabled = !(call && call.phase === "offered");
    $("#reject").disabled = !(call && call.phase === "offered");
    $("#hangup").disabled = !live;
    $("#hold").disabled = !(live && !call.held);
    $("#resume").disabled = !(live && call.held);
    const transfer = live ? call.transfer : null;
    $("#transfer").disabled = !live || Boolean(transfer);
    $("#transfer-complete").disabled = !(transfer && transfer.state === "consulting");
    $("#transfer-cancel").disabled = !(transfer && transfer.mode === "attended");
    $("#transfer-status").textContent = transfer
      ? `${transfer.mode} transfer to ${transfer.target}: ${transfer.state}`
      : "";
    for (const key of document.querySelectorAll("#keypad button")) key.disabled = !live;
    $("#dtmf-sent").textContent = dtmfSent ? `sent: ${dtmfSent}` : "";
    $("#wrapup-submit").disabled = !afterCallId;
    $("#note-submit").disabled = !afterCallId;
    $("#wrapup-call").textContent = afterCallId ? `Call ${afterCallId}` : "No call to wrap up.";
    $("#wrapup-timer").hidden = !(agent && agent.state === "wrap_up");
    tick();
  }

  function renderAudio(view) {
    const labels = { phone: "on the phone", live: "in this browser" };
    $("#audio").dataset.status = view.status;
    $("#audio-status").textContent = labels[view.status] || view.status;
    $("#audio-sent").textContent = String(view.sent);
    $("#audio-received").textContent = String(view.received);
  }

  function tick() {
    const now = CC.serverNow();
    if (agent) $("#state-time").textContent = CC.duration(now - agent.since);
    const facts = [];
    if (call) {
      if (call.phase === "offered") {
        facts.push(`ringing ${CC.duration(now - call.offerAt)}`);
        if (call.ringTimeout) facts.push(`rings up to ${Math.round(call.ringTimeout)} s`);
        if (call.waited !== null && call.waited !== undefined) {
          facts.push(`caller waited ${CC.duration(call.waited + (now - call.offerAt))}`);
        }
      } else if (call.phase === "connected") {
        facts.push(`talking ${CC.duration(now - call.connectedAt)}`);
        if (call.waitSeconds !== null && call.waitSeconds !== undefined) {
          facts.push(`caller waited ${CC.duration(call.waitSeconds)}`);
        }
      } else if (call.phase === "ended" && call.ended) {
        facts.push(call.ended.reason + (call.ended.cause ? ` (${call.ended.cause})` : ""));
        if (call.ended.talk !== null && call.ended.talk !== undefined) facts.push(`talked ${CC.duration(call.ended.talk)}`);
      }
      if (call.queue) facts.push(`queue ${call.queue}`);
    }
    if (!callControl) facts.push("call control not available on this server yet");
    $("#call-facts").textContent = facts.join(" · ");
    if (wrap) {
      const left = wrap.endsAt - now;
      const countdown = $("#wrapup-countdown");
      countdown.textContent = CC.duration(left);
      countdown.classList.toggle("low", left < 10);
    }
  }

  function table(headers, rows) {
    return el(
      "table",
      {},
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { text: h })))),
      el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c))))),
    );
  }

  function ticketRows(tickets) {
    return tickets.map((t) => [
      `#${t.id}`,
      t.subject,
      `${t.kind} · ${CC.stateLabel(t.status)}`,
      `P${t.priority}`,
      (t.updated_at || "").slice(0, 16).replace("T", " "),
    ]);
  }

  function renderPop() {
    const box = $("#screen-pop");
    box.replaceChildren();
    if (!call) return;
    const pop = call.pop;
    const facts = el("dl", { class: "kv" });
    const fact = (name, value) => {
      if (value === null || value === undefined || value === "") return;
      facts.append(el("dt", { text: name }), el("dd", { text: value }));
    };
    fact("Caller", call.caller || (pop && pop.caller) || "unknown number");
    if (call.callback) fact("Callback to", call.callback);
    fact("Queue", call.queue);
    if (call.ivr && typeof call.ivr === "object") {
      fact("IVR choice", Object.entries(call.ivr).map(([k, v]) => `${k}: ${v}`).join(", "));
    } else {
      fact("IVR choice", "–");
    }
    if (call.waited !== null && call.waited !== undefined) fact("Waited before the offer", CC.duration(call.waited));

    if (call.popPending) {
      box.append(el("div", { class: "who", text: "Looking up the caller…" }), facts);
      return;
    }
    if (call.popError) {
      box.append(el("div", { class: "who", text: "Caller details unavailable" }), el("div", { class: "muted", text: call.popError }), facts);
      return;
    }
    if (!pop) {
      box.append(el("div", { class: "who", text: "No caller details" }), facts);
      return;
    }
    const employee = pop.employee;
    let who;
    if (employee) {
      who = el("div", { class: "who", id: "pop-name" }, employee.name, employee.vip ? el("span", { class: "badge vip", text: "VIP" }) : null);
      fact("Department", employee.department);
      fact("Organisation", employee.organisation);
      fact("Username", employee.username);
    } else if (pop.matches > 1) {
      who = el("div", { class: "who", id: "pop-name", text: `${pop.matches} employees share this number` });
    } else {
      who = el("div", { class: "who", id: "pop-name", text: "Unknown caller" });
    }
    box.append(who, facts);
    if (!employee && (pop.candidates || []).length > 1) {
      // A department line: the agent asks who it is and says so (identify_caller).
      const more = pop.matches > pop.candidates.length ? ` (first ${pop.candidates.length} of ${pop.matches})` : "";
      box.append(
        el("h3", { text: `Who is calling?${more}` }),
        table(
          ["Name", "Department", "Organisation", "Username", ""],
          pop.candidates.map((c) => [
            el("span", {}, c.name, c.vip ? el("span", { class: "badge vip", text: "VIP" }) : null),
            c.department || "–",
            c.organisation,
            el("span", { class: "mono", text: c.username }),
            el("button", { type: "button", class: "identify", dataset: { username: c.username }, text: "This is the caller", onclick: () => identifyCaller(c.username) }),
          ]),
        ),
      );
    }
    if (!employee && (pop.maybe || []).length) {
      // Not an identification: tickets whose text mentions the number.
      box.append(
        el("h3", { text: "Maybe: tickets mentioning this number" }),
        el(
          "ul",
          { id: "pop-maybe", class: "kb maybe" },
          pop.maybe.map((m) =>
            el(
              "li",
              { dataset: { ticket: m.ticket_id } },
              el("span", { class: "badge unknown", text: "maybe" }),
              ` #${m.ticket_id} ${m.subject}`,
              el("span", { class: "muted", text: ` (“${m.number_as_written}”${m.employee ? `, ${m.employee.name}` : ""})` }),
              m.employee ? el("button", { type: "button", class: "identify", dataset: { username: m.employee.username }, text: "This is the caller", onclick: () => identifyCaller(m.employee.username) }) : null,
            ),
          ),
        ),
      );
    }
    if (pop.devices.length) {
      box.append(
        el("h3", { text: "Devices" }),
        table(
          ["Device", "Type", "Model", "Asset tag", "Warranty"],
          pop.devices.map((d) => [
            d.name,
            d.type,
            [d.vendor, d.model].filter(Boolean).join(" "),
            el("span", { class: "mono", text: d.asset_tag }),
            el(
              "span",
              { class: "warranty", dataset: { warranty: d.warranty } },
              el("span", { class: `badge ${d.warranty}`, text: d.warranty === "in" ? "in warranty" : d.warranty === "out" ? "out of warranty" : "unknown" }),
              d.warranty_end ? ` until ${d.warranty_end}` : "",
            ),
          ]),
        ),
      );
    }
    if ((pop.known_errors || []).length) {
      // A known error on the caller's device, model or ticket category: read the workaround first.
      box.append(
        el("h3", { text: "Known errors" }),
        el(
          "ul",
          { id: "pop-known-errors", class: "kb" },
          pop.known_errors.map((k) => el("li", { dataset: { problem: k.problem_id } }, `#${k.problem_id} ${k.workaround}`, el("span", { class: "muted", text: ` (${k.dimension.replace("_", " ")} ${k.key})` }))),
        ),
      );
    }
    box.append(
      el("h3", { text: `Open tickets (${pop.open_tickets.length})` }),
      pop.open_tickets.length ? table(["#", "Subject", "Status", "Prio", "Updated"], ticketRows(pop.open_tickets)) : el("div", { class: "muted", text: "none" }),
      el("h3", { text: "Recently closed" }),
      pop.recent_closed_tickets.length
        ? table(["#", "Subject", "Status", "Prio", "Updated"], ticketRows(pop.recent_closed_tickets))
        : el("div", { class: "muted", text: "none" }),
      el("h3", { text: "Knowledge base for these devices" }),
      (pop.kb_suggestions || []).length
        ? el(
            "ul",
            { id: "pop-kb", class: "kb" },
            pop.kb_suggestions.map((a) => el("li", { dataset: { article: a.id } }, `#${a.id} ${a.title}`, el("span", { class: "muted", text: ` (${a.category || "general"}, used ${a.use_count}×)` }))),
          )
        : el("div", { class: "muted", text: "none" }),
    );
  }

  function fillWrapUpChoices() {
    const tickets = $("#wu-ticket");
    const devices = $("#wu-device");
    tickets.replaceChildren(el("option", { value: "", text: "the call's ticket" }));
    devices.replaceChildren(el("option", { value: "", text: "–" }));
    const articles = $("#wu-kb");
    articles.replaceChildren(el("option", { value: "", text: "–" }));
    const pop = call && call.pop;
    if (!pop) return;
    for (const t of pop.open_tickets) tickets.append(el("option", { value: t.id, text: `#${t.id} ${t.subject}` }));
    for (const d of pop.devices) devices.append(el("option", { value: d.asset_tag, text: `${d.name} (${d.asset_tag})` }));
    for (const a of pop.kb_suggestions || []) articles.append(el("option", { value: a.id, text: `#${a.id} ${a.title}` }));
  }

  // ----- wiring -----

  function buildKeypad() {
    const pad = $("#keypad");
    for (const key of KEYS) {
      pad.append(
        el("button", {
          type: "button",
          text: key,
          disabled: true,
          dataset: { key },
          onclick: async () => {
            if (await callRequest("dtmf", { digits: key })) {
              dtmfSent += key;
              $("#dtmf-sent").textContent = `sent: ${dtmfSent}`;
            }
          },
        }),
      );
    }
  }

  function wire() {
    $("#go-available").addEventListener("click", () => changeState("available"));
    $("#go-paused").addEventListener("click", () => changeState("paused", $("#pause-reason").value));
    $("#go-logged-out").addEventListener("click", () => changeState("logged_out"));
    $("#end-wrapup").addEventListener("click", async () => {
      const result = await send("end_wrap_up", {}, "end wrap-up");
      if (result) setState(result);
    });
    $("#accept").addEventListener("click", () => callRequest("accept"));
    $("#reject").addEventListener("click", () => callRequest("reject"));
    $("#hangup").addEventListener("click", () => callRequest("hangup"));
    $("#hold").addEventListener("click", async () => {
      if ((await callRequest("hold")) && call) {
        call.held = true; // call_held follows, also to the agent's other consoles
        renderCall();
      }
    });
    $("#resume").addEventListener("click", async () => {
      if ((await callRequest("resume")) && call) {
        call.held = false;
        renderCall();
      }
    });
    $("#transfer-kind").addEventListener("change", () => {
      const kind = $("#transfer-kind").value;
      const input = $("#transfer-target");
      if (kind === "queue") input.setAttribute("list", "queue-names");
      else input.removeAttribute("list");
      input.placeholder = kind === "number" ? "+8620…" : "";
    });
    $("#transfer-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const kind = $("#transfer-kind").value;
      const target = $("#transfer-target").value.trim();
      if (!target) return;
      const attended = $("#transfer-attended").checked;
      const fields = attended ? { [kind]: target, mode: "attended" } : { [kind]: target };
      if (await callRequest("transfer", fields)) {
        CC.toast("ok", "", `transfer to ${kind} ${target} requested`);
      }
    });
    $("#transfer-complete").addEventListener("click", () => callRequest("transfer_complete"));
    $("#transfer-cancel").addEventListener("click", () => callRequest("transfer_cancel"));
    $("#wrapup-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!afterCallId) return;
      const form = event.target;
      const fields = { call_id: afterCallId };
      for (const name of ["subject", "category", "status", "disposition", "description", "resolution", "device_asset_tag"]) {
        const value = form.elements[name].value.trim();
        if (value) fields[name] = value;
      }
      for (const name of ["ticket_id", "priority", "kb_article_id"]) {
        const value = form.elements[name].value;
        if (value) fields[name] = Number(value);
      }
      fields.first_contact_resolved = form.elements.fcr.checked;
      if (form.elements.fcr.checked) fields.status = "resolved";
      const result = await send("wrap_up", fields, `wrap-up of call ${afterCallId}`);
      if (result) CC.toast("ok", "", `wrap-up saved${result.ticket_id ? ` to ticket #${result.ticket_id}` : ""}`);
    });
    $("#note-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!afterCallId) return;
      const text = $("#note-text").value.trim();
      if (!text) return;
      const result = await send("add_note", { call_id: afterCallId, text }, `note on call ${afterCallId}`);
      if (result) {
        $("#note-text").value = "";
        CC.toast("ok", "", `note added${result.ticket_id ? ` to ticket #${result.ticket_id}` : ""}`);
      }
    });
    $("#signout").addEventListener("click", async () => {
      // Leave no desk available that nobody watches (during a call this is pending).
      if (agent && agent.state !== "logged_out") await connection.request("set_state", { state: "logged_out" });
      connection.stop();
      audio.close();
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin("");
    });
    $("#reconnect").addEventListener("click", () => {
      const token = CC.storedToken(TOKEN_KEY);
      $("#reconnect").hidden = true;
      if (token) connection.start(token);
      else showLogin("sign in again");
    });
    CC.loginForm($("#login-form"), ["agent"], (token) => {
      sessionStorage.setItem(TOKEN_KEY, token);
      start(token);
    });
  }

  function showLogin(message) {
    $("#desk").hidden = true;
    $("#signout").hidden = true;
    $("#login").hidden = false;
    $("#login-error").textContent = message;
    $("#who").textContent = "";
    agent = null;
    call = null;
    wrap = null;
    afterCallId = null;
  }

  async function start(token) {
    $("#login").hidden = true;
    $("#desk").hidden = false;
    $("#signout").hidden = false;
    $("#reconnect").hidden = true;
    renderCall();
    renderPop();
    connection.start(token);
    const queues = await CC.api("/api/v1/queues", token);
    if (queues && Array.isArray(queues.queues)) {
      $("#queue-names").replaceChildren(...queues.queues.map((q) => el("option", { value: q.name })));
    }
  }

  buildKeypad();
  wire();
  setInterval(tick, 250);
  const token = CC.storedToken(TOKEN_KEY);
  if (token) start(token);
  else showLogin("");
})();
