// Parley chat playground. No build step, no dependencies.
// Every piece of user or model text goes into the page as a text node (textContent),
// never parsed as HTML (QUALITY R18). Tokens live in memory only: reloading signs out.
"use strict";

(function () {
  const API = "/api/v1";
  const state = {
    access: null,
    refresh: null,
    user: null,
    conversationId: null,
    streaming: null, // {conversationId, generationId, controller, stopRequested}
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
  }

  function signOutLocally() {
    state.access = null;
    state.refresh = null;
    state.user = null;
    state.conversationId = null;
    if (state.streaming) state.streaming.controller.abort();
    state.streaming = null;
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
    $("who").textContent = state.user ? state.user.display_name || state.user.email : "";
    $("logout").hidden = false;
    $("auth-view").hidden = true;
    $("chat-view").hidden = false;
    await loadConversations();
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

  // ---- conversations ----

  async function loadConversations() {
    showError("chat-error", "");
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
      const item = el("li", conversation.id === state.conversationId ? "active" : "",
        conversation.title || "Untitled");
      item.title = (conversation.title || "Untitled") + " — " + conversation.message_count + " messages";
      item.dataset.id = conversation.id;
      item.addEventListener("click", () => openConversation(conversation));
      list.appendChild(item);
    }
  }

  async function newConversation() {
    showError("chat-error", "");
    try {
      const conversation = await api("/conversations", { method: "POST", body: "{}" });
      await openConversation(conversation);
      await loadConversations();
    } catch (err) {
      showError("chat-error", err.message);
    }
  }

  async function openConversation(conversation) {
    if (state.streaming) return; // finish or stop the current reply first
    showError("chat-error", "");
    state.conversationId = conversation.id;
    $("conversation-title").textContent = conversation.title || "Untitled";
    for (const item of $("conversations").children) {
      item.classList.toggle("active", item.dataset.id === conversation.id);
    }
    const list = $("messages");
    clear(list);
    $("send").disabled = false;
    try {
      let cursor = null;
      for (let pages = 0; pages < 20; pages++) {
        const query = "?limit=100" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
        const page = await api("/conversations/" + encodeURIComponent(conversation.id) + "/messages" + query);
        if (state.conversationId !== conversation.id) return;
        for (const message of page.items || []) list.appendChild(messageNode(message));
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      list.scrollTop = list.scrollHeight;
    } catch (err) {
      showError("chat-error", err.message);
    }
  }

  function messageNode(message) {
    const item = el("li", message.role);
    item.appendChild(el("span", "body", message.content));
    item.appendChild(el("span", "meta"));
    updateMeta(item, message);
    return item;
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

  // ---- sending and streaming ----

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

  function setStreaming(on) {
    $("send").disabled = on || !state.conversationId;
    $("stop").hidden = !on;
    $("stop").disabled = false;
  }

  async function sendMessage() {
    const content = $("content").value;
    const conversationId = state.conversationId;
    if (!content.trim() || !conversationId || state.streaming) return;
    showError("chat-error", "");
    const list = $("messages");
    const userItem = messageNode({ role: "user", content: content, status: "complete" });
    list.appendChild(userItem);
    const reply = messageNode({ role: "assistant", content: "", status: "streaming" });
    const replyText = reply.querySelector(".body");
    list.appendChild(reply);
    list.scrollTop = list.scrollHeight;
    $("content").value = "";

    const controller = new AbortController();
    const streaming = { conversationId: conversationId, generationId: null, controller: controller, stopRequested: false };
    state.streaming = streaming;
    setStreaming(true);
    let finished = false;
    try {
      const response = await send("/conversations/" + encodeURIComponent(conversationId) + "/messages", {
        method: "POST",
        headers: { Accept: "text/event-stream" },
        body: JSON.stringify({ content: content, stream: true }),
        signal: controller.signal,
      });
      if (!response.ok) {
        const body = await readJson(response);
        throw new ApiError(response.status, body);
      }
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
        if (sse.event === "start") {
          streaming.generationId = data.generation_id;
          if (data.user_message) updateMeta(userItem, data.user_message);
          if (streaming.stopRequested) cancelGeneration(streaming);
        } else if (sse.event === "delta") {
          replyText.appendChild(document.createTextNode(String(data.content ?? "")));
          list.scrollTop = list.scrollHeight;
        } else if (sse.event === "done") {
          const message = data.message || {};
          replyText.textContent = message.content ?? replyText.textContent;
          updateMeta(reply, message);
          finished = true;
        } else if (sse.event === "error") {
          updateMeta(reply, { role: "assistant", status: "failed", error_code: data.code });
          showError("chat-error", problemText(data, data.status));
          finished = true;
        }
      }
      if (!finished) updateMeta(reply, { role: "assistant", status: "failed", error_code: "STREAM_ENDED" });
    } catch (err) {
      if (err.name === "AbortError") {
        updateMeta(reply, { role: "assistant", status: "cancelled" });
      } else {
        updateMeta(reply, { role: "assistant", status: "failed" });
        showError("chat-error", err.message);
        if (err instanceof ApiError && !replyText.textContent) reply.remove();
      }
    } finally {
      if (state.streaming === streaming) state.streaming = null;
      setStreaming(false);
      if (state.access) loadConversations();
    }
  }

  async function cancelGeneration(streaming) {
    try {
      await api("/conversations/" + encodeURIComponent(streaming.conversationId) +
        "/generations/" + encodeURIComponent(streaming.generationId) + "/cancel", { method: "POST" });
    } catch (err) {
      showError("chat-error", err.message);
    }
  }

  function stop() {
    const streaming = state.streaming;
    if (!streaming || streaming.stopRequested) return;
    streaming.stopRequested = true;
    $("stop").disabled = true;
    // The server finishes the stream with the stored, cancelled message.
    if (streaming.generationId) cancelGeneration(streaming);
  }

  // ---- wiring ----

  function guard(fn) {
    return (event) => {
      if (event) event.preventDefault();
      fn().catch((err) => showError(state.access ? "chat-error" : "auth-error", err.message));
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("auth-form").addEventListener("submit", guard(() => authenticate("login")));
    $("register").addEventListener("click", guard(() => authenticate("register")));
    $("logout").addEventListener("click", guard(logout));
    $("new-conversation").addEventListener("click", guard(newConversation));
    $("send-form").addEventListener("submit", guard(sendMessage));
    $("stop").addEventListener("click", stop);
    $("content").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        guard(sendMessage)();
      }
    });
  });
})();
