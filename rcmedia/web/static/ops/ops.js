// What every /ops page's script shares (window.rcmediaOps): the page's config, labels in the
// page's language, JSON calls to the API with readable errors, and the status line.
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("ops-config").textContent);
  const flashBox = document.getElementById("flash");

  function t(zh, en) {
    return config.lang === "en" ? en : zh;
  }

  // The reason an answer gives (the API's JSON {"error": ...} or its plain text) and, for JSON,
  // the whole body: some refusals carry more than their reason (a copy's list of refusals).
  async function refusalOf(response) {
    const type = response.headers.get("Content-Type") || "";
    try {
      if (type.startsWith("application/json")) {
        const body = await response.json();
        const reason = body && typeof body.error === "string" ? body.error : JSON.stringify(body);
        return { reason, body };
      }
      const text = (await response.text()).trim();
      return { reason: text || `HTTP ${response.status}`, body: null };
    } catch (_error) {
      return { reason: `HTTP ${response.status}`, body: null };
    }
  }

  // fetch a JSON API: {ok, status, data, error, response}; never throws for an HTTP error
  // (a network failure is {ok: false, status: 0}); a refusal's JSON body is its data. Writes send
  // JSON, as the API requires.
  async function api(method, url, body, headers) {
    const init = { method, headers: { Accept: "application/json", ...(headers || {}) }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      return { ok: false, status: 0, data: null, error: t("网络错误：", "Network error: ") + error.message, response: null };
    }
    if (response.ok) {
      const type = response.headers.get("Content-Type") || "";
      const data = response.status === 204 || !type.startsWith("application/json") ? null : await response.json();
      return { ok: true, status: response.status, data, error: null, response };
    }
    if (response.status === 401) {
      // the session ended: log in again and come back
      window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
    }
    const refusal = await refusalOf(response);
    return { ok: false, status: response.status, data: refusal.body, error: refusal.reason, response };
  }

  // The status line at the top of the page (role=status, so screen readers announce it).
  function flash(text, kind) {
    flashBox.textContent = text;
    flashBox.className = `flash ${kind || "info"}`;
    flashBox.hidden = !text;
  }

  function formatBytes(bytes) {
    if (!Number.isFinite(bytes)) {
      return "";
    }
    const units = ["B", "KB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
  }

  function formatSeconds(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) {
      return "";
    }
    const whole = Math.round(seconds);
    const h = Math.floor(whole / 3600);
    const m = Math.floor((whole % 3600) / 60);
    const s = whole % 60;
    const mm = String(m).padStart(h ? 2 : 1, "0");
    return h ? `${h}:${mm}:${String(s).padStart(2, "0")}` : `${mm}:${String(s).padStart(2, "0")}`;
  }

  window.rcmediaOps = { config, t, api, flash, formatBytes, formatSeconds };
})();
