// The rundown editor: one broadcast day of one output, drawn from GET …/schedule, edited through
// the JSON API with the day's version, kept current by the schedule events (SSE).
(() => {
  "use strict";

  const ops = window.rcmediaOps;
  const { t, api, flash } = ops;
  const config = ops.config;
  const FPS = config.fps;
  const FRAME_MS = 1000 / FPS;
  const KINDS = {
    programme: t("节目", "Programme"),
    filler: t("填充", "Filler"),
    ident: t("台标", "Ident"),
    slate: t("垫片", "Slate"),
  };

  const rows = document.getElementById("rundown-rows");
  const form = document.getElementById("edit-form");
  const note = document.getElementById("live-note");
  const searchBox = document.getElementById("asset-search");
  const results = document.getElementById("asset-results");
  const chosenLabel = document.getElementById("asset-chosen");
  const timeInput = document.getElementById("edit-time");
  const datesInput = document.getElementById("copy-dates");

  // the server's clock (a test may freeze it), carried on by this page's
  const loadedAt = Date.now();
  const serverNow = Date.parse(config.now);
  const now = () => serverNow + (Date.now() - loadedAt);

  let day = null; // the day document shown
  let pending = null; // the action being prepared: {kind, event, version, asset}
  let dragged = null; // the event a row drag carries

  // --- times in the channel's zone, to the frame ----------------------------------------------

  const zoneParts = new Intl.DateTimeFormat("en-GB", {
    timeZone: config.timezone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });

  function parts(ms) {
    const out = {};
    for (const part of zoneParts.formatToParts(new Date(ms))) {
      out[part.type] = part.value;
    }
    return out;
  }

  const pad = (n) => String(n).padStart(2, "0");

  function clock(ms) {
    const p = parts(ms);
    const frames = Math.floor((((ms % 1000) + 1000) % 1000) / FRAME_MS);
    return `${p.hour}:${p.minute}:${p.second}:${pad(frames)}`;
  }

  function duration(seconds) {
    const totalFrames = Math.round(seconds * FPS);
    const frames = totalFrames % FPS;
    const whole = Math.floor(totalFrames / FPS);
    return `${pad(Math.floor(whole / 3600))}:${pad(Math.floor((whole % 3600) / 60))}:${pad(whole % 60)}:${pad(frames)}`;
  }

  // the zone's offset from UTC at an instant, in ms
  function offsetAt(ms) {
    const p = parts(ms);
    const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    return asUtc - Math.floor(ms / 1000) * 1000;
  }

  // "HH:MM[:SS[:FF]]" on the channel's clock within the broadcast day shown, as an ISO instant
  // (times before the day's start fall on the next date, as the API reads them)
  function instantOf(text) {
    const match = /^([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9])(?::([0-9]{2}))?)?$/.exec(text.trim());
    if (!match || (match[4] !== undefined && +match[4] >= FPS)) {
      return null;
    }
    const [y, m, d] = config.day.split("-").map(Number);
    const hms = `${pad(+match[1])}:${match[2]}:${match[3] || "00"}`;
    const nextDate = hms < config.dayStart ? 1 : 0;
    const wall = Date.UTC(y, m - 1, d + nextDate, +match[1], +match[2], +(match[3] || 0));
    let ms = wall - offsetAt(wall);
    ms = wall - offsetAt(ms);
    ms += Math.round(+(match[4] || 0) * FRAME_MS);
    return new Date(ms).toISOString();
  }

  // --- drawing the day ----------------------------------------------------------------------

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) {
      td.className = className;
    }
    row.appendChild(td);
    return td;
  }

  function button(parent, action, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.action = action;
    b.textContent = label;
    parent.appendChild(b);
  }

  // gaps between events, and fixed slots that start late or that the event before runs into
  function flagsOf(events) {
    const flags = new Map();
    const add = (index, text) => flags.set(index, [...(flags.get(index) || []), text]);
    events.forEach((event, i) => {
      const start = Date.parse(event.start);
      if (i > 0) {
        const before = Date.parse(events[i - 1].end);
        if (start > before) {
          add(i, t(`前有空档 ${duration((start - before) / 1000)}`, `gap of ${duration((start - before) / 1000)} before`));
        }
      }
      const expected = event.slot_id && event.kind === "programme" ? config.slots[event.slot_id] : null;
      if (expected) {
        const at = Date.parse(expected);
        if (start !== at) {
          add(i, t(`固定时段 ${event.slot_id} 应于 ${clock(at)} 开始`, `fixed slot ${event.slot_id} is due at ${clock(at)}`));
        }
        if (i > 0 && Date.parse(events[i - 1].end) > at) {
          add(i - 1, t(`超时进入固定时段 ${event.slot_id}`, `overruns into fixed slot ${event.slot_id}`));
        }
      }
    });
    return flags;
  }

  function render(document_, changedStarts) {
    day = document_;
    const events = day.events;
    const current = now();
    const horizon = current + config.freezeSeconds * 1000;
    const flags = flagsOf(events);
    const fragment = document.createDocumentFragment();
    let freezeDrawn = false;
    events.forEach((event, index) => {
      const start = Date.parse(event.start);
      const end = Date.parse(event.end);
      if (!freezeDrawn && start >= horizon && Date.parse(day.start) < horizon) {
        fragment.appendChild(freezeLine(horizon));
        freezeDrawn = true;
      }
      const row = document.createElement("tr");
      row.dataset.index = String(index);
      row.className = `kind-${event.kind}`;
      const past = end <= current;
      const onAir = start <= current && current < end;
      // what starts before the freeze horizon is as read-only as the past: players may have it
      const frozen = !past && start < horizon;
      if (past) {
        row.classList.add("past");
      }
      if (frozen) {
        row.classList.add("frozen");
      }
      if (onAir) {
        row.classList.add("on-air");
        row.setAttribute("aria-current", "true");
      }
      if (changedStarts && changedStarts.has(event.start)) {
        row.classList.add("changed");
      }
      cell(row, clock(start), "mono");
      cell(row, duration(event.duration), "mono");
      const title = cell(row, event.title);
      title.title = event.title;
      cell(row, KINDS[event.kind] || event.kind);
      cell(row, event.locked ? t("🔒 锁定", "🔒 locked") : "");
      const problems = flags.get(index);
      cell(row, [event.substitution || "", ...(problems || [])].filter(Boolean).join("；"));
      if (problems) {
        row.classList.add("flagged");
      }
      const actions = cell(row, "", "actions");
      if (!past && !frozen) {
        row.draggable = true;
        button(actions, "replace", t("替换", "Replace"));
        button(actions, "move", t("移动", "Move"));
        button(actions, "delete", t("删除", "Delete"));
        button(actions, event.locked ? "unlock" : "lock", event.locked ? t("解锁", "Unlock") : t("锁定", "Lock"));
      }
      fragment.appendChild(row);
    });
    if (!events.length) {
      const row = document.createElement("tr");
      cell(row, day.version === null ? t("这一天还没有编排。", "This day is not built yet.") : "", "muted").colSpan = 7;
      fragment.appendChild(row);
    }
    rows.replaceChildren(fragment);
    summarize();
  }

  function freezeLine(horizon) {
    const row = document.createElement("tr");
    row.className = "freeze-line";
    row.id = "freeze-line";
    cell(row, `${t("冻结线", "Freeze horizon")} ${clock(horizon)} — ${t("此线以上的节目不能再改", "events above this line can no longer change")}`).colSpan = 7;
    return row;
  }

  function summarize() {
    const length = (Date.parse(day.end) - Date.parse(day.start)) / 1000;
    let total = 0;
    let slate = 0;
    for (const event of day.events) {
      const start = Math.max(Date.parse(event.start), Date.parse(day.start));
      const end = Math.min(Date.parse(event.end), Date.parse(day.end));
      const seconds = Math.max(0, end - start) / 1000;
      total += seconds;
      if (event.kind === "slate") {
        slate += seconds;
      }
    }
    const flagged = rows.querySelectorAll("tr.flagged").length;
    document.getElementById("day-version").textContent = day.version === null ? "—" : String(day.version);
    const totalBox = document.getElementById("day-total");
    totalBox.textContent = `${duration(total)} / ${duration(length)}`;
    totalBox.className = Math.abs(total - length) > 1 / FPS ? "bad" : "good";
    document.getElementById("day-slate").textContent = length ? `${((100 * slate) / length).toFixed(1)} %` : "—";
    const flagsBox = document.getElementById("day-flags");
    flagsBox.textContent = flagged ? t(`${flagged} 处（已标出）`, `${flagged} (marked)`) : t("无", "none");
    flagsBox.className = flagged ? "bad" : "good";
  }

  async function reload(changedBy) {
    const answer = await api("GET", config.urls.day);
    if (!answer.ok) {
      flash(answer.error, "error");
      return;
    }
    const before = new Map((day ? day.events : []).map((e) => [e.start, `${e.asset_id}/${e.locked}`]));
    const changed = changedBy ? new Set(answer.data.events.filter((e) => before.get(e.start) !== `${e.asset_id}/${e.locked}`).map((e) => e.start)) : null;
    render(answer.data, changed);
  }

  // --- actions -----------------------------------------------------------------------------

  function show(id, visible) {
    document.getElementById(id).hidden = !visible;
  }

  function openForm(kind, event, time) {
    pending = { kind, event, version: day.version, asset: null };
    const titles = {
      replace: t("替换节目", "Replace the event's asset"),
      insert: t("插入节目", "Insert an asset"),
      move: t("移动节目", "Move the event"),
      delete: t("删除节目", "Delete the event"),
      lock: t("锁定节目", "Lock the event"),
      unlock: t("解锁节目", "Unlock the event"),
      rebuild: t("按节目表格重建这一天（保留锁定项）", "Rebuild the day from the grid (keeping locks)"),
      copy: t("把这一天的锁定项复制到其他日期", "Copy this day's locks to other dates"),
    };
    document.getElementById("edit-title").textContent = titles[kind];
    document.getElementById("edit-target").textContent = event ? `${clock(Date.parse(event.start))} · ${event.title}` : "";
    show("asset-field", kind === "replace" || kind === "insert");
    show("time-field", kind === "move" || kind === "insert");
    show("dates-field", kind === "copy");
    timeInput.value = time || (event ? clock(Date.parse(event.start)) : "");
    chosenLabel.textContent = "—";
    results.replaceChildren();
    searchBox.value = "";
    form.hidden = false;
    (kind === "replace" || kind === "insert" ? searchBox : document.getElementById("edit-save")).focus();
  }

  function closeForm() {
    pending = null;
    form.hidden = true;
  }

  function bodyOf(action) {
    const body = { output: config.output, date: config.day, version: action.version };
    if (action.kind === "rebuild") {
      return [config.urls.rebuild, body];
    }
    if (action.kind === "copy") {
      const to = datesInput.value.split(/[\s,，]+/).filter(Boolean);
      return [config.urls.copyLocks, { ...body, to }];
    }
    const edit = { ...body, action: action.kind };
    if (action.event) {
      edit.event_start = action.event.start;
    }
    if (action.kind === "replace" || action.kind === "insert") {
      if (!action.asset) {
        throw new Error(t("请先选一个节目。", "Choose an asset first."));
      }
      edit.asset_id = action.asset.id;
    }
    if (action.kind === "move" || action.kind === "insert") {
      const to = instantOf(timeInput.value);
      if (!to) {
        throw new Error(t("时间应写成 HH:MM:SS:FF。", "Write the time as HH:MM:SS:FF."));
      }
      edit.to = to;
    }
    return [config.urls.edits, edit];
  }

  async function save(submitEvent) {
    submitEvent.preventDefault();
    if (!pending) {
      return;
    }
    let url;
    let body;
    try {
      [url, body] = bodyOf(pending);
    } catch (error) {
      flash(error.message, "error");
      return;
    }
    const answer = await api("POST", url, body);
    if (!answer.ok) {
      // nothing changed on the server: the rows stay as they are, unless the day moved on
      flash(`${t("未保存：", "Not saved: ")}${answer.error}${refusalsOf(answer)}`, "error");
      if (answer.status === 409) {
        closeForm();
        await reload(true);
      }
      return;
    }
    closeForm();
    if (answer.data && answer.data.events) {
      render(answer.data);
    } else {
      await reload(false);
    }
    flash(t("已保存。", "Saved."), "ok");
  }

  // a refused copy of locks lists each date's refusal (date, start, reason)
  function refusalsOf(answer) {
    const refusals = (answer.data && answer.data.refusals) || [];
    return refusals
      .map((r) => ` [${r.date}${r.start ? ` ${clock(Date.parse(r.start))}` : ""}: ${r.reason}]`)
      .join("");
  }

  let searchTimer = null;
  async function search() {
    const q = searchBox.value.trim();
    if (!q) {
      results.replaceChildren();
      return;
    }
    const answer = await api("GET", `${config.urls.assets}?q=${encodeURIComponent(q)}&status=published&limit=20`);
    if (!answer.ok) {
      flash(answer.error, "error");
      return;
    }
    const items = answer.data.items || [];
    const fragment = document.createDocumentFragment();
    for (const asset of items) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.assetId = String(asset.id);
      b.textContent = `${asset.title} · ${duration(asset.duration || 0)} · #${asset.id}`;
      b.addEventListener("click", () => {
        pending.asset = asset;
        chosenLabel.textContent = `${asset.title} (#${asset.id})`;
      });
      li.appendChild(b);
      fragment.appendChild(li);
    }
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = t("没有找到。", "Nothing found.");
      fragment.appendChild(li);
    }
    results.replaceChildren(fragment);
  }

  rows.addEventListener("click", (click) => {
    const target = click.target.closest("button[data-action]");
    if (!target) {
      return;
    }
    const event = day.events[Number(target.closest("tr").dataset.index)];
    openForm(target.dataset.action, event);
  });

  // drag a row onto another: a move to that row's start, confirmed in the form
  rows.addEventListener("dragstart", (drag) => {
    const row = drag.target.closest("tr[data-index]");
    if (!row || !row.draggable) {
      return;
    }
    dragged = day.events[Number(row.dataset.index)];
    drag.dataTransfer.effectAllowed = "move";
    drag.dataTransfer.setData("text/plain", dragged.start);
  });
  rows.addEventListener("dragover", (drag) => {
    const row = drag.target.closest("tr[data-index]");
    if (dragged && row) {
      drag.preventDefault();
      for (const marked of rows.querySelectorAll(".drop-target")) {
        marked.classList.remove("drop-target");
      }
      row.classList.add("drop-target");
    }
  });
  rows.addEventListener("drop", (drag) => {
    const row = drag.target.closest("tr[data-index]");
    if (!dragged || !row) {
      return;
    }
    drag.preventDefault();
    row.classList.remove("drop-target");
    const onto = day.events[Number(row.dataset.index)];
    const moved = dragged;
    dragged = null;
    if (onto.start !== moved.start) {
      openForm("move", moved, clock(Date.parse(onto.start)));
    }
  });
  rows.addEventListener("dragend", () => {
    dragged = null;
  });

  document.getElementById("insert-button").addEventListener("click", () => openForm("insert", null, ""));
  document.getElementById("rebuild-button").addEventListener("click", () => openForm("rebuild", null));
  document.getElementById("copy-button").addEventListener("click", () => openForm("copy", null));
  document.getElementById("edit-cancel").addEventListener("click", closeForm);
  form.addEventListener("submit", save);
  searchBox.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 200);
  });

  // leaving with an action prepared but not saved asks first
  window.addEventListener("beforeunload", (unload) => {
    if (pending || dragged) {
      unload.preventDefault();
      unload.returnValue = "";
    }
  });

  // --- another operator's saves -------------------------------------------------------------

  function listen() {
    if (!window.EventSource) {
      return;
    }
    const source = new EventSource(config.urls.events);
    source.addEventListener("day", async (message) => {
      const change = JSON.parse(message.data);
      if (change.day !== config.day || change.output !== config.output || !day || change.version === day.version) {
        return;
      }
      await reload(true);
      note.textContent = pending
        ? t(
            `另一位操作员刚保存了这一天（版本 ${change.version}），已显示其更改；你正在准备的操作基于旧版本，保存时会被拒绝。`,
            `Another operator just saved this day (version ${change.version}); their change is shown. The action you are preparing is based on the old version and will be refused.`,
          )
        : t(`另一位操作员刚保存了这一天（版本 ${change.version}），已更新。`, `Another operator just saved this day (version ${change.version}); updated.`);
    });
  }

  // at first, what is on air now (or the freeze line) at the top of the list
  function scrollToNow() {
    const box = document.getElementById("rundown-scroll");
    const row = rows.querySelector("tr[aria-current]") || document.getElementById("freeze-line");
    if (row) {
      box.scrollTop = Math.max(0, row.offsetTop - row.offsetHeight * 2);
    }
  }

  reload(false).then(() => {
    scrollToNow();
    listen();
    // time moves on: the on-air row, the past and the freeze line are drawn again (not mid-drag)
    setInterval(() => {
      if (day && !dragged) {
        render(day);
      }
    }, 15000);
  });
})();
