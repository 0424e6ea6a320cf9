// Parley chat playground. No build step; two vendored libraries (static/vendor).
// Model output is data: user text goes into the page as text nodes; a
// reply's Markdown is parsed by marked with raw HTML escaped to text, then sanitised by
// DOMPurify into a DOM fragment (never assigned as an HTML string) with a short allow-list
// of tags. Tokens and the reply in flight are kept in sessionStorage (this tab only,
// gone when it closes) so a reload keeps the session and resumes a streaming reply.
"use strict";

(function () {
  const API = "/api/v1";
  const SAVED = "parley.playground";
  const params = new URLSearchParams(location.search);
  const state = {
    access: null,
    refresh: null,
    user: null,
    conversationId: null,
    streaming: null, // {conversationId, generationId, requestId, lastEventId, reply, text, done}
    ws: null, // an open, authenticated WebSocket, or null (then SSE is used)
    connecting: null, // a WebSocket whose handshake has not finished yet
    wsPending: new Map(), // request_id -> stream record
    forceSse: params.get("transport") === "sse",
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function showError(id, message) {
    $(id).textContent = message || "";
  }

  function problemText(body, status) {
    if (body && typeof body === "object") {
      const detail = body.detail || body.title || "Request failed";
      return body.code ? detail + " (" + body.code + ")" : String(detail);
    }
    return "Request failed (HTTP " + status + ")";
  }

  class ApiError extends Error {
    constructor(status, body) {
      super(problemText(body, status));
      this.status = status;
      this.body = body;
    }
  }

  // ---- saved session (this tab only) ----

  function save() {
    const stream = state.streaming;
    const saved = {
      access: state.access,
      refresh: state.refresh,
      user: state.user,
      conversationId: state.conversationId,
      stream: stream && stream.generationId && !stream.done
        ? { conversationId: stream.conversationId, generationId: stream.generationId }
        : null,
    };
    try {
      window.sessionStorage.setItem(SAVED, JSON.stringify(saved));
    } catch (_) {
      // Storage may be off; the page still works, a reload just signs out.
    }
  }

  function restore() {
    try {
      return JSON.parse(window.sessionStorage.getItem(SAVED) || "null");
    } catch (_) {
      return null;
    }
  }

  // ---- Markdown, safely ----

  let markdownReady = false;

  function setUpMarkdown() {
    if (markdownReady || !window.marked || !window.DOMPurify) return markdownReady;
    const escape = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    // Raw HTML in a reply is shown as the text it is, not interpreted.
    window.marked.use({ gfm: true, breaks: true, renderer: { html: (token) => escape(token.text) } });
    markdownReady = true;
    return true;
  }

  const ALLOWED_TAGS = ["p", "br", "strong", "em", "del", "code", "pre", "ul", "ol", "li",
    "blockquote", "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody",
    "tr", "th", "td", "input"];
  const ALLOWED_ATTR = ["href", "title", "type", "checked", "disabled", "start", "align"];

  function renderMarkdown(node, text) {
    if (!setUpMarkdown()) {
      node.textContent = text; // the libraries did not load: plain text is still safe
      return;
    }
    const html = window.marked.parse(String(text), { async: false });
    const fragment = window.DOMPurify.sanitize(html, {
      ALLOWED_TAGS: ALLOWED_TAGS,
      ALLOWED_ATTR: ALLOWED_ATTR,
      ALLOW_DATA_ATTR: false,
      RETURN_DOM_FRAGMENT: true,
    });
    for (const link of fragment.querySelectorAll("a")) {
      link.setAttribute("rel", "noopener noreferrer nofollow");
      link.setAttribute("target", "_blank");
    }
    clear(node);
    node.appendChild(fragment);
  }

  // ---- HTTP ----

  async function readJson(response) {
    const type = response.headers.get("content-type") || "";
    if (response.status === 204 || !type.includes("json")) return null;
    try {
      return await response.json();
    } catch (_) {
      return null;
    }
  }

  function headers(extra) {
    const out = Object.assign({ "Content-Type": "application/json" }, extra || {});
    if (state.access) out.Authorization = "Bearer " + state.access;
    return out;
  }

  async function tryRefresh() {
    if (!state.refresh) return false;
    const response = await fetch(API + "/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: state.refresh }),
      credentials: "same-origin",
    });
    if (!response.ok) return false;
    setTokens(await response.json());
    return true;
  }

  // fetch with the access token; on 401 refresh once and retry.
  async function send(path, options, retried) {
    const opts = Object.assign({ credentials: "same-origin" }, options);
    opts.headers = headers(options && options.headers);
    const response = await fetch(API + path, opts);
    if (response.status === 401 && !retried && (await tryRefresh())) {
      return send(path, options, true);
    }
    if (response.status === 401 && retried !== "auth") signOutLocally();
    return response;
  }

  async function api(path, options) {
    const response = await send(path, options || {});
    const body = await readJson(response);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  // ---- auth ----

  function setTokens(pair) {
    state.access = pair.access_token;
    state.refresh = pair.refresh_token;
    if (pair.user) state.user = pair.user;
    save();
  }

  function signOutLocally() {
    state.access = null;
    state.refresh = null;
    state.user = null;
    state.conversationId = null;
    state.streaming = null;
    closeSocket();
    try {
      window.sessionStorage.removeItem(SAVED);
    } catch (_) {
      // nothing saved
    }
    $("who").textContent = "";
    $("logout").hidden = true;
    $("chat-view").hidden = true;
    $("auth-view").hidden = false;
    clear($("conversations"));
    clear($("messages"));
  }

  async function authenticate(kind) {
    showError("auth-error", "");
    const email = $("email").value.trim();
    const password = $("password").value;
    if (!email || !password) {
      showError("auth-error", "Email and password are required.");
      return;
    }
    const response = await fetch(API + "/auth/" + kind, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: email, password: password }),
      credentials: "same-origin",
    });
    const body = await readJson(response);
    if (!response.ok) {
      showError("auth-error", problemText(body, response.status));
      return;
    }
    setTokens(body);
    $("password").value = "";
    await enterChat(null);
  }

  async function enterChat(saved) {
    $("who").textContent = state.user ? state.user.display_name || state.user.email : "";
    $("logout").hidden = false;
    $("auth-view").hidden = true;
    $("chat-view").hidden = false;
    $("content").focus();
    await connectSocket();
    await loadConversations();
    loadUsage();
    loadNotifications();
    if (saved && saved.conversationId) {
      await openConversation({ id: saved.conversationId }, saved.stream);
    }
  }

  async function logout() {
    try {
      await send("/auth/logout", {
        method: "POST",
        body: JSON.stringify({ refresh_token: state.refresh }),
      }, "auth");
    } catch (_) {
      // Signing out locally is what matters here.
    }
    signOutLocally();
  }

  // ---- WebSocket (preferred transport; SSE is the fallback) ----

  function setTransport() {
    $("transport").textContent = state.ws ? "WebSocket" : "SSE";
  }

  function closeSocket() {
    const ws = state.ws;
    const pending = state.connecting;
    state.ws = null;
    state.connecting = null;
    if (ws) ws.close(1000);
    if (pending) pending.close(1000);
    setTransport();
  }

  function connectSocket() {
    if (state.forceSse || !window.WebSocket || !state.access) {
      setTransport();
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      let ws;
      try {
        ws = new WebSocket(scheme + location.host + API + "/ws");
      } catch (_) {
        resolve(false);
        return;
      }
      state.connecting = ws;  // the newest attempt wins; an older one is closed when ready
      let opened = false;
      // A slow handshake (a busy server) must not pin the page to SSE: after a few seconds
      // the page carries on over SSE, and switches to the socket if it still becomes ready.
      // Only a socket that never does (a proxy swallowing the upgrade) is given up on.
      const fallback = setTimeout(() => { setTransport(); resolve(false); }, 3000);
      const giveUp = setTimeout(() => { if (!opened) ws.close(); }, 30000);
      const clearTimers = () => { clearTimeout(fallback); clearTimeout(giveUp); };
      // The token goes in the first frame, not the URL, so it stays out of access logs.
      ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "auth", token: state.access })));
      ws.addEventListener("message", (event) => {
        let frame;
        try {
          frame = JSON.parse(event.data);
        } catch (_) {
          return;
        }
        if (frame.type === "ready" && !opened) {
          opened = true;
          clearTimers();
          if (state.connecting !== ws) {
            ws.close(1000);  // signed out or superseded while the handshake was slow
            resolve(false);
            return;
          }
          state.connecting = null;
          state.ws = ws;
          setTransport();
          resolve(true);
          return;
        }
        onFrame(frame);
      });
      ws.addEventListener("close", (event) => {
        clearTimers();
        if (state.connecting === ws) state.connecting = null;
        if (!opened) resolve(false);
        const wasActive = state.ws === ws;
        if (wasActive) state.ws = null;
        setTransport();
        // Streams that were on this socket carry on server-side: pick them up over SSE.
        // (Only the active socket carries streams; a handshake that never finished has none.)
        if (wasActive) {
          for (const stream of state.wsPending.values()) {
            if (!stream.done) resumeOverSse(stream);
          }
          state.wsPending.clear();
        }
        if (event.code === 4401 && state.refresh) {
          tryRefresh().then((ok) => ok && connectSocket());
        }
      });
    });
  }

  function onFrame(frame) {
    if (frame.type === "notification" && frame.notification) {
      addNotification(frame.notification, true);
      return;
    }
    if (frame.type === "message.completed" && frame.message) {
      // A reply finished on another device or tab: show it if that conversation is open.
      loadConversations();
      if (frame.message.conversation_id === state.conversationId && !state.streaming) {
        openConversation({ id: state.conversationId });
      }
      return;
    }
    const stream = state.wsPending.get(frame.request_id);
    if (!stream) return;
    if (frame.event_id) stream.lastEventId = frame.event_id;
    if (frame.type === "ack") {
      onStart(stream, frame);
    } else if (frame.type === "delta") {
      onDelta(stream, frame.content);
    } else if (frame.type === "done") {
      onDone(stream, frame.message || {});
    } else if (frame.type === "error") {
      onError(stream, frame);
    }
  }

  // ---- conversations, search, usage ----

  async function loadConversations() {
    try {
      const page = await api("/conversations?limit=100");
      renderConversations(page.items || []);
    } catch (err) {
      showError("chat-error", err.message);
    }
  }

  function renderConversations(items) {
    const list = $("conversations");
    clear(list);
    for (const conversation of items) {
      const item = el("li");
      const button = el("button", conversation.id === state.conversationId ? "active" : "",
        conversation.title || "Untitled");
      button.type = "button";
      button.title = (conversation.title || "Untitled") + " — " + conversation.message_count + " messages";
      button.dataset.id = conversation.id;
      button.addEventListener("click", () => openConversation(conversation));
      item.appendChild(button);
      list.appendChild(item);
    }
  }

  function newConversation() {
    if (state.streaming) return;
    state.conversationId = null;
    save();
    $("conversation-title").textContent = "New conversation: type a message to start";
    clear($("messages"));
    for (const button of $("conversations").querySelectorAll("button")) button.classList.remove("active");
    showError("chat-error", "");
    $("content").focus();
  }

  async function openConversation(conversation, pendingStream) {
    if (state.streaming && !pendingStream) return; // finish or stop the current reply first
    showError("chat-error", "");
    state.conversationId = conversation.id;
    save();
    for (const button of $("conversations").querySelectorAll("button")) {
      button.classList.toggle("active", button.dataset.id === conversation.id);
    }
    const list = $("messages");
    clear(list);
    try {
      const full = await api("/conversations/" + encodeURIComponent(conversation.id));
      $("conversation-title").textContent = full.title || "Untitled";
      let cursor = null;
      let last = null;
      for (let pages = 0; pages < 20; pages++) {
        const query = "?limit=100" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
        const page = await api("/conversations/" + encodeURIComponent(conversation.id) + "/messages" + query);
        if (state.conversationId !== conversation.id) return;
        for (const message of page.items || []) {
          last = messageNode(message);
          list.appendChild(last);
        }
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      list.scrollTop = list.scrollHeight;
      if (pendingStream && pendingStream.conversationId === conversation.id && last &&
          last.classList.contains("streaming")) {
        resumeStream(pendingStream.generationId, last);
      } else if (pendingStream) {
        save(); // that reply finished while the page was away
      }
    } catch (err) {
      showError("chat-error", err.message);
    }
  }

  async function showTitle(conversationId) {
    try {
      const conversation = await api("/conversations/" + encodeURIComponent(conversationId));
      if (state.conversationId === conversationId) {
        $("conversation-title").textContent = conversation.title || "Untitled";
      }
    } catch (_) {
      // the title is cosmetic; the list shows it too
    }
  }

  async function search(query) {
    const results = $("search-results");
    clear(results);
    if (!query.trim()) {
      results.hidden = true;
      return;
    }
    try {
      const found = await api("/search?mode=hybrid&limit=10&q=" + encodeURIComponent(query));
      for (const hit of found.items || []) {
        const item = el("li");
        const button = el("button", "", hit.message.role === "user" ? "You" : "Reply");
        button.type = "button";
        button.appendChild(el("span", "snippet", hit.message.content.slice(0, 140)));
        button.addEventListener("click", () => openConversation({ id: hit.conversation_id }));
        item.appendChild(button);
        results.appendChild(item);
      }
      if (!results.firstChild) results.appendChild(el("li", "snippet", "No matches."));
      results.hidden = false;
    } catch (err) {
      showError("chat-error", err.message);
    }
  }

  async function loadUsage() {
    try {
      const board = await api("/me/dashboard");
      const parts = [board.usage.messages + " messages", board.usage.total_tokens + " tokens"];
      const left = [];
      if (board.remaining.messages !== null) left.push(board.remaining.messages + " messages");
      if (board.remaining.tokens !== null) left.push(board.remaining.tokens + " tokens");
      $("usage-text").textContent = parts.join(" · ") + " — remaining: " +
        (left.length ? left.join(", ") : "unlimited") + " (plan " + board.plan.name + ")";
    } catch (err) {
      $("usage-text").textContent = "usage unavailable";
    }
  }

  // ---- notifications (pushed over the WebSocket; the list is the resync path) ----

  let unread = 0;

  function setBadge(count) {
    unread = Math.max(0, count);
    $("notifications-badge").textContent = String(unread);
    $("notifications-badge").hidden = unread === 0;
  }

  function addNotification(notification, pushed) {
    const item = el("li", notification.read ? "" : "unread", notification.title);
    if (notification.body) item.appendChild(el("span", "snippet", notification.body));
    const list = $("notifications-list");
    if (pushed) list.insertBefore(item, list.firstChild);
    else list.appendChild(item);
    if (pushed && !notification.read) setBadge(unread + 1);
  }

  async function loadNotifications() {
    try {
      const page = await api("/notifications?limit=20");
      clear($("notifications-list"));
      for (const notification of page.items || []) addNotification(notification, false);
      if (!(page.items || []).length) $("notifications-list").appendChild(el("li", "snippet", "Nothing yet."));
      setBadge(page.unread_count || 0);
    } catch (_) {
      $("notifications").hidden = true; // this server has no notifications API
    }
  }

  function toggleNotifications() {
    const panel = $("notifications-panel");
    panel.hidden = !panel.hidden;
    $("notifications-toggle").setAttribute("aria-expanded", String(!panel.hidden));
  }

  async function markAllRead() {
    await api("/notifications/mark-read", { method: "POST", body: JSON.stringify({ all: true }) });
    await loadNotifications();
  }

  // ---- messages ----

  function messageNode(message) {
    const item = el("li", message.role);
    const body = el("div", "body");
    item.appendChild(body);
    item.appendChild(el("span", "meta"));
    setBody(item, message.content || "");
    updateMeta(item, message);
    return item;
  }

  function setBody(item, text) {
    const body = item.querySelector(".body");
    if (item.classList.contains("assistant")) renderMarkdown(body, text);
    else body.textContent = text;
  }

  function updateMeta(item, message) {
    item.classList.remove("complete", "streaming", "cancelled", "failed");
    if (message.status) item.classList.add(message.status);
    const parts = [];
    if (message.role === "assistant" && message.model) parts.push(message.model);
    if (message.status && message.status !== "complete") parts.push(message.status);
    if (message.error_code) parts.push(message.error_code);
    if (message.usage) parts.push(message.usage.total_tokens + " tokens");
    item.querySelector(".meta").textContent = parts.join(" · ");
  }

  // ---- one streaming reply, whatever the transport ----

  function newStream(conversationId, reply) {
    return { conversationId: conversationId, generationId: null, requestId: null,
      lastEventId: null, reply: reply, text: "", done: false, stopRequested: false, paint: 0 };
  }

  function onStart(stream, data) {
    stream.generationId = data.generation_id;
    if (data.conversation_id && !stream.conversationId) {
      // The server started a conversation for this first message.
      stream.conversationId = data.conversation_id;
      state.conversationId = data.conversation_id;
      showTitle(data.conversation_id);
      loadConversations();
    }
    if (stream.userItem && data.user_message) updateMeta(stream.userItem, data.user_message);
    save();
    if (stream.stopRequested) cancelGeneration(stream);
  }

  function onDelta(stream, content) {
    stream.text += String(content ?? "");
    // Re-render at most once a frame: Markdown needs the whole text so far.
    if (!stream.paint) {
      stream.paint = requestAnimationFrame(() => {
        stream.paint = 0;
        if (!stream.done) setBody(stream.reply, stream.text);
        $("messages").scrollTop = $("messages").scrollHeight;
      });
    }
  }

  function onDone(stream, message) {
    stream.text = message.content ?? stream.text;
    setBody(stream.reply, stream.text);
    updateMeta(stream.reply, message);
    finish(stream);
  }

  function onError(stream, data) {
    if (data.message) {
      setBody(stream.reply, data.message.content || stream.text);
      updateMeta(stream.reply, data.message);
    } else {
      updateMeta(stream.reply, { role: "assistant", status: "failed", error_code: data.code });
    }
    showError("chat-error", problemText(data, data.status));
    finish(stream);
  }

  function finish(stream) {
    if (stream.done) return;
    stream.done = true;
    if (stream.requestId) state.wsPending.delete(stream.requestId);
    if (state.streaming === stream) state.streaming = null;
    save();
    setStreaming(false);
    if (state.access) {
      loadConversations();
      loadUsage();
    }
  }

  function setStreaming(on) {
    $("send").disabled = on;
    $("stop").hidden = !on;
    $("stop").disabled = false;
  }

  let requestCounter = 0;

  async function sendMessage() {
    const content = $("content").value;
    if (!content.trim() || state.streaming) return;
    showError("chat-error", "");
    const list = $("messages");
    const userItem = messageNode({ role: "user", content: content, status: "complete" });
    list.appendChild(userItem);
    const reply = messageNode({ role: "assistant", content: "", status: "streaming" });
    list.appendChild(reply);
    list.scrollTop = list.scrollHeight;
    $("content").value = "";
    const stream = newStream(state.conversationId, reply);
    stream.userItem = userItem;
    state.streaming = stream;
    setStreaming(true);
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      stream.requestId = "r" + (++requestCounter) + "-" + Date.now();
      state.wsPending.set(stream.requestId, stream);
      const frame = { type: "chat", request_id: stream.requestId, content: content };
      if (stream.conversationId) frame.conversation_id = stream.conversationId;
      state.ws.send(JSON.stringify(frame));
      return;
    }
    try {
      if (!stream.conversationId) {
        // Sending without a conversation starts one.
        const made = await api("/conversations", { method: "POST", body: "{}" });
        stream.conversationId = made.id;
        state.conversationId = made.id;
        $("conversation-title").textContent = made.title || "Untitled";
        save();
      }
      const response = await send("/conversations/" + encodeURIComponent(stream.conversationId) + "/messages", {
        method: "POST",
        headers: { Accept: "text/event-stream" },
        body: JSON.stringify({ content: content, stream: true }),
      });
      await readSse(stream, response);
    } catch (err) {
      if (err instanceof ApiError && !stream.text) {
        reply.remove();
        userItem.classList.add("failed");
      } else {
        updateMeta(reply, { role: "assistant", status: "failed" });
      }
      showError("chat-error", err.message);
      finish(stream);
    }
  }

  // Splits an SSE byte stream into events: {event, data, id}. Comments are skipped.
  async function* sseEvents(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder("utf-8");
    let buffer = "";
    let event = { event: "message", data: [], id: null };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let match;
      while ((match = /\r\n|\r|\n/.exec(buffer)) !== null) {
        // A lone CR at the buffer's end may be the first half of CRLF: wait for more.
        if (match[0] === "\r" && match.index === buffer.length - 1) break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === "") {
          if (event.data.length) yield { event: event.event, data: event.data.join("\n"), id: event.id };
          event = { event: "message", data: [], id: null };
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value_ = colon === -1 ? "" : line.slice(colon + 1);
        if (value_.startsWith(" ")) value_ = value_.slice(1);
        if (field === "event") event.event = value_;
        else if (field === "data") event.data.push(value_);
        else if (field === "id") event.id = value_;
      }
    }
  }

  async function readSse(stream, response) {
    if (!response.ok) throw new ApiError(response.status, await readJson(response));
    if (!(response.headers.get("content-type") || "").includes("text/event-stream") || !response.body) {
      throw new Error("Expected an event stream from the server.");
    }
    for await (const sse of sseEvents(response.body)) {
      let data;
      try {
        data = JSON.parse(sse.data);
      } catch (_) {
        continue;
      }
      if (sse.id) stream.lastEventId = sse.id;
      if (sse.event === "start") onStart(stream, data);
      else if (sse.event === "delta") onDelta(stream, data.content);
      else if (sse.event === "done") onDone(stream, data.message || {});
      else if (sse.event === "error") onError(stream, data);
    }
    if (!stream.done) {
      updateMeta(stream.reply, { role: "assistant", status: "failed", error_code: "STREAM_ENDED" });
      finish(stream);
    }
  }

  // A reply that was streaming when the page went away: replay it from its first event.
  function resumeStream(generationId, reply) {
    const stream = newStream(state.conversationId, reply);
    stream.generationId = generationId;
    state.streaming = stream;
    setStreaming(true);
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      stream.requestId = generationId;
      state.wsPending.set(generationId, stream);
      state.ws.send(JSON.stringify({ type: "resume", generation_id: generationId, request_id: generationId }));
    } else {
      resumeOverSse(stream);
    }
  }

  async function resumeOverSse(stream) {
    stream.requestId = null;
    const after = stream.lastEventId ? "?after=" + encodeURIComponent(stream.lastEventId) : "";
    if (!after) stream.text = "";
    try {
      const response = await send("/conversations/" + encodeURIComponent(stream.conversationId) +
        "/generations/" + encodeURIComponent(stream.generationId) + "/events" + after,
        { headers: { Accept: "text/event-stream" } });
      await readSse(stream, response);
    } catch (err) {
      showError("chat-error", err.message);
      finish(stream);
    }
  }

  async function cancelGeneration(stream) {
    try {
      await api("/conversations/" + encodeURIComponent(stream.conversationId) +
        "/generations/" + encodeURIComponent(stream.generationId) + "/cancel", { method: "POST" });
    } catch (err) {
      showError("chat-error", err.message);
    }
  }

  function stop() {
    const stream = state.streaming;
    if (!stream || stream.stopRequested) return;
    stream.stopRequested = true;
    $("stop").disabled = true;
    // The server ends the stream with the stored, cancelled message.
    if (stream.generationId) cancelGeneration(stream);
  }

  // ---- wiring ----

  function guard(fn) {
    return (event) => {
      if (event) event.preventDefault();
      fn().catch((err) => showError(state.access ? "chat-error" : "auth-error", err.message));
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    setUpMarkdown();
    $("auth-form").addEventListener("submit", guard(() => authenticate("login")));
    $("register").addEventListener("click", guard(() => authenticate("register")));
    $("logout").addEventListener("click", guard(logout));
    $("new-conversation").addEventListener("click", newConversation);
    $("send-form").addEventListener("submit", guard(sendMessage));
    $("stop").addEventListener("click", stop);
    $("search-form").addEventListener("submit", guard(() => search($("search").value)));
    $("notifications-toggle").addEventListener("click", toggleNotifications);
    $("notifications-read").addEventListener("click", guard(markAllRead));
    $("content").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        guard(sendMessage)();
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.streaming) stop();
    });
    const saved = restore();
    if (saved && saved.refresh) {
      state.access = saved.access;
      state.refresh = saved.refresh;
      state.user = saved.user;
      enterChat(saved).catch((err) => showError("chat-error", err.message));
    }
  });
})();
