/* What both consoles share: login, the token, one WebSocket connection that
   authenticates with its first message and reconnects with backoff, requests with ids,
   toasts for error replies, and time formatting against the server's clock.
   Protocol: docs/websocket.md. No framework, no build step, nothing inline (CSP). */
"use strict";

const CC = (() => {
  // ----- DOM helpers: text only, never HTML from data -----

  function $(selector, root = document) {
    return root.querySelector(selector);
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // ----- time: the server's clock, counted on locally -----

  let offset = 0; // server time minus local time, seconds

  function noteServerTime(at) {
    if (typeof at === "number") offset = at - Date.now() / 1000;
  }

  function serverNow() {
    return Date.now() / 1000 + offset;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = String(s % 60).padStart(2, "0");
    return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
  }

  function seconds(value) {
    return value === null || value === undefined ? "–" : `${Math.round(value)} s`;
  }

  function percent(value) {
    return value === null || value === undefined ? "–" : `${Math.round(value * 1000) / 10} %`;
  }

  function stateLabel(state) {
    return String(state || "").replace("_", " ");
  }

  // ----- toasts -----

  function toast(kind, code, message, what) {
    const box = $("#toasts");
    const item = el(
      "div",
      { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status", dataset: { code: code || "" } },
      el(
        "div",
        { class: "body" },
        code ? el("span", { class: "code", text: code }) : null,
        code ? ": " : null,
        el("span", { class: "message", text: message || "" }),
        what ? el("div", { class: "what", text: what }) : null,
      ),
      el("button", { type: "button", title: "dismiss", "aria-label": "dismiss", text: "×", onclick: () => item.remove() }),
    );
    box.append(item);
    while (box.children.length > 5) box.firstElementChild.remove();
    setTimeout(() => item.remove(), kind === "error" ? 15000 : 5000);
    return item;
  }

  function errorToast(reply, what) {
    return toast("error", reply.code || "error", reply.message || "", what);
  }

  // ----- ticket alerts (docs/websocket.md#ticket-alerts) -----

  const CLOCK_LABELS = { first_response: "first response", onsite_arrival: "on-site arrival", resolution: "resolution" };
  const ALERT_RANK = { sla_breach: 0, complaint_escalated: 1, sla_warning: 2 };

  /** One entry per clock (a breach replaces the clock's warning) or per complaint. */
  function alertKey(alert) {
    return `${alert.ticket_id}:${alert.kind === "complaint_escalated" ? "complaint" : alert.clock}`;
  }

  function alertLabel(alert) {
    if (alert.kind === "sla_breach") return "SLA breached";
    if (alert.kind === "sla_warning") return alert.level ? `SLA ${Math.round(alert.level * 100)} %` : "SLA warning";
    return `Complaint level ${alert.escalation_level}`;
  }

  function alertWhat(alert) {
    const parts = [];
    if (alert.clock) parts.push(CLOCK_LABELS[alert.clock] || alert.clock);
    if (alert.due_at) parts.push(`due ${new Date(alert.due_at).toLocaleString([], { hour12: false })}`);
    if (alert.priority) parts.push(`P${alert.priority}`);
    parts.push(alert.assignee || (alert.tier ? alert.tier.replaceAll("_", " ") : "unassigned"));
    return parts.join(" · ");
  }

  /** Breaches first, then complaints, then warnings; newest first within each. */
  function sortAlerts(alerts) {
    return [...alerts].sort((a, b) => ALERT_RANK[a.kind] - ALERT_RANK[b.kind] || b.at - a.at);
  }

  /** A list item for an alert, coloured by its kind (class `alert-item <kind>`). */
  function alertItem(alert) {
    return el(
      "li",
      { class: `alert-item ${alert.kind}`, dataset: { ticket: String(alert.ticket_id), kind: alert.kind } },
      el("span", { class: "alert-kind", text: alertLabel(alert) }),
      el("span", { class: "alert-ticket", text: `#${alert.ticket_id} ${alert.subject || ""}` }),
      el("span", { class: "alert-what", text: alertWhat(alert) }),
    );
  }

  // ----- login and the token -----

  function tokenPayload(token) {
    try {
      const part = token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
    } catch {
      return null;
    }
  }

  function storedToken(key) {
    const token = sessionStorage.getItem(key);
    const payload = token && tokenPayload(token);
    if (!payload || typeof payload.exp !== "number" || payload.exp <= Date.now() / 1000 + 5) {
      sessionStorage.removeItem(key);
      return null;
    }
    return token;
  }

  /** POST /api/v1/auth/login: {token, role} or throws {code, message}. */
  async function login(username, password) {
    let response;
    try {
      response = await fetch("/api/v1/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username, password }),
        credentials: "omit",
      });
    } catch (exc) {
      throw { code: "network", message: "the server cannot be reached" };
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const error = (body && body.error) || {};
      throw { code: error.code || `http_${response.status}`, message: error.message || response.statusText };
    }
    return body;
  }

  /** GET a protected REST path with the token; null when it fails. */
  async function api(path, token) {
    try {
      const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, credentials: "omit" });
      return response.ok ? await response.json() : null;
    } catch {
      return null;
    }
  }

  // ----- the WebSocket connection -----

  /** Close codes after which reconnecting with the same token is pointless. */
  const AUTH_CLOSES = new Set([4401, 4403]);
  const REPLACED = 4409;

  /**
   * One console connection. Handlers: onMessage(msg) for pushes, onHello(hello),
   * onStatus(kind, text), onAuthLost(code, reason), onReplaced(reason).
   */
  class Connection {
    constructor(path, handlers) {
      this.path = path;
      this.handlers = handlers;
      this.ws = null;
      this.token = null;
      this.attempt = 0;
      this.timer = null;
      this.stopped = true;
      this.pending = new Map();
      this.ids = 0;
      this.ready = false;
    }

    url() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      return `${scheme}//${location.host}${this.path}`;
    }

    start(token) {
      this.token = token;
      this.stopped = false;
      this.attempt = 0;
      this.open();
    }

    stop() {
      this.stopped = true;
      clearTimeout(this.timer);
      if (this.ws) this.ws.close(1000, "signed out");
      this.ws = null;
      this.ready = false;
      this.failPending("the console was closed");
      this.status("stopped", "signed out");
    }

    status(kind, text) {
      if (this.handlers.onStatus) this.handlers.onStatus(kind, text);
    }

    open() {
      clearTimeout(this.timer);
      this.status("connecting", this.attempt ? "reconnecting…" : "connecting…");
      let ws;
      try {
        ws = new WebSocket(this.url());
      } catch (exc) {
        this.retry();
        return;
      }
      this.ws = ws;
      ws.addEventListener("open", () => {
        // Browsers cannot set headers on an upgrade: the token is the first message.
        ws.send(JSON.stringify({ type: "auth", token: this.token }));
        this.status("connecting", "signing in…");
      });
      ws.addEventListener("message", (event) => this.receive(ws, event));
      ws.addEventListener("close", (event) => this.closed(ws, event));
    }

    receive(ws, event) {
      if (ws !== this.ws) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!message || typeof message !== "object") return;
      noteServerTime(message.at);
      if (message.type === "hello") {
        this.ready = true;
        this.attempt = 0;
        this.status("connected", message.resumed ? "connected (resumed)" : "connected");
        if (this.handlers.onHello) this.handlers.onHello(message);
        return;
      }
      if ((message.type === "ok" || message.type === "error") && message.id !== null && message.id !== undefined) {
        const waiter = this.pending.get(message.id);
        if (waiter) {
          this.pending.delete(message.id);
          waiter(message);
          return;
        }
      }
      if (this.handlers.onMessage) this.handlers.onMessage(message);
    }

    closed(ws, event) {
      if (ws !== this.ws) return;
      this.ws = null;
      this.ready = false;
      this.failPending("the connection closed before the reply");
      if (this.stopped) return;
      const reason = event.reason || "";
      if (AUTH_CLOSES.has(event.code)) {
        this.stopped = true;
        this.status("stopped", `closed: ${reason || event.code}`);
        if (this.handlers.onAuthLost) this.handlers.onAuthLost(event.code, reason);
        return;
      }
      if (event.code === REPLACED) {
        this.stopped = true;
        this.status("stopped", "another console took over");
        if (this.handlers.onReplaced) this.handlers.onReplaced(reason);
        return;
      }
      this.retry(event.code, reason);
    }

    retry(code, reason) {
      // 1 s, 2 s, 4 s … 30 s, with jitter so that a restarted server is not stormed.
      const base = Math.min(30, 2 ** this.attempt);
      const delay = base * (0.5 + Math.random() / 2);
      this.attempt += 1;
      const why = code ? ` (${reason || code})` : "";
      let left = Math.ceil(delay);
      this.status("offline", `offline${why}, retrying in ${left} s`);
      const tick = () => {
        left -= 1;
        if (this.stopped) return;
        if (left <= 0) {
          this.open();
          return;
        }
        this.status("offline", `offline${why}, retrying in ${left} s`);
        this.timer = setTimeout(tick, 1000);
      };
      this.timer = setTimeout(tick, Math.min(1000, delay * 1000));
    }

    failPending(message) {
      for (const waiter of this.pending.values()) {
        waiter({ type: "error", code: "disconnected", message });
      }
      this.pending.clear();
    }

    /** Send a request; resolves with the reply ({type: ok|error, ...}), never rejects. */
    request(type, fields = {}) {
      if (!this.ws || !this.ready || this.ws.readyState !== WebSocket.OPEN) {
        return Promise.resolve({ type: "error", code: "disconnected", message: "not connected to the server" });
      }
      this.ids += 1;
      const id = `r${this.ids}`;
      return new Promise((resolve) => {
        this.pending.set(id, resolve);
        this.ws.send(JSON.stringify({ type, id, ...fields }));
      });
    }
  }

  /** Wire a login form; calls onToken(token, role) after a successful login. */
  function loginForm(form, wantRoles, onToken) {
    const error = $(".error", form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const username = form.elements.username.value.trim();
      const password = form.elements.password.value;
      const button = $("button[type=submit]", form);
      button.disabled = true;
      try {
        const body = await login(username, password);
        if (!wantRoles.includes(body.role)) {
          error.textContent = `forbidden: a ${body.role} account cannot use this console`;
          return;
        }
        form.elements.password.value = "";
        onToken(body.token, body.role);
      } catch (exc) {
        error.textContent = `${exc.code}: ${exc.message}`;
      } finally {
        button.disabled = false;
      }
    });
  }

  function setConnStatus(kind, text) {
    const node = $("#conn");
    node.className = `conn ${kind}`;
    node.textContent = text;
    node.dataset.status = kind;
  }

  return {
    $, el, noteServerTime, serverNow, duration, seconds, percent, stateLabel,
    toast, errorToast, storedToken, tokenPayload, login, api, Connection, loginForm, setConnStatus,
    alertKey, alertLabel, alertWhat, sortAlerts, alertItem,
  };
})();
