// The job monitor (/ops/jobs): one row per ingest job, kept current by the job event stream
// (EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed), or by
// polling the job list for accounts the stream is not open to.
(() => {
  "use strict";

  const ops = window.rcmediaOps;
  const { t, config } = ops;
  const body = document.getElementById("jobs");
  const none = document.getElementById("no-jobs");
  const total = document.getElementById("total");
  const note = document.getElementById("live-note");
  const rows = new Map(); // job id -> {row, cells, samples}
  const ETA_WINDOW_MS = 30000; // time left from the progress of the last half minute

  const STATES = {
    queued: ["排队", "queued"],
    probing: ["分析", "probing"],
    transcoding: ["转码", "transcoding"],
    verifying: ["校验", "verifying"],
    published: ["已发布", "published"],
    failed: ["失败", "failed"],
  };
  const FINISHED = new Set(["published", "failed"]);

  function cell(row, className) {
    const node = document.createElement("td");
    if (className) {
      node.className = className;
    }
    row.append(node);
    return node;
  }

  function button(label, className, action) {
    const node = document.createElement("button");
    node.type = "button";
    node.className = className;
    node.textContent = label;
    node.addEventListener("click", action);
    return node;
  }

  function makeRow(job) {
    const row = document.createElement("tr");
    row.id = `job-${job.id}`;
    const cells = {
      id: cell(row, "number mono"),
      file: cell(row),
      state: cell(row, "state"),
      progress: cell(row),
      speed: cell(row, "number mono"),
      eta: cell(row, "number mono"),
      attempts: cell(row, "number mono"),
      reason: cell(row, "error reason"),
      actions: cell(row, "actions"),
    };
    cells.id.textContent = job.id;
    cells.bar = document.createElement("progress");
    cells.bar.max = 100;
    cells.bar.setAttribute("aria-label", t(`任务 #${job.id} 进度`, `Job #${job.id} progress`));
    cells.percent = document.createElement("span");
    cells.percent.className = "mono muted";
    cells.progress.append(cells.bar, cells.percent);
    if (config.may_act) {
      cells.retry = button(t("重试", "Retry"), "retry", () => act(job.id, "retry"));
      cells.cancel = button(t("取消", "Cancel"), "cancel", () => act(job.id, "cancel"));
      cells.actions.append(cells.retry, " ", cells.cancel);
    }
    return { row, cells, samples: [] };
  }

  // Time left from how fast progress moved lately (the job document has no duration to go by).
  function eta(entry, job) {
    if (FINISHED.has(job.state) || job.state === "queued") {
      entry.samples = [];
      return "";
    }
    const now = performance.now();
    entry.samples.push([now, job.progress]);
    while (entry.samples.length > 2 && now - entry.samples[0][0] > ETA_WINDOW_MS) {
      entry.samples.shift();
    }
    const [then, before] = entry.samples[0];
    const rate = (job.progress - before) / ((now - then) / 1000);
    return rate > 0 ? ops.formatSeconds((1 - job.progress) / rate) : "";
  }

  function show(job, fresh) {
    let entry = rows.get(job.id);
    if (!entry) {
      entry = makeRow(job);
      rows.set(job.id, entry);
      if (fresh) {
        body.prepend(entry.row);
        entry.row.classList.add("fresh");
        total.textContent = String(Number(total.textContent) + 1);
      } else {
        body.append(entry.row);
      }
      none.hidden = true;
    }
    const { cells } = entry;
    entry.row.dataset.state = job.state;
    cells.file.textContent = job.original_filename;
    const [zh, en] = STATES[job.state] || [job.state, job.state];
    cells.state.textContent = t(zh, en);
    cells.state.className = `state state-${job.state}`;
    const percent = Math.round((job.state === "published" ? 1 : job.progress) * 100);
    cells.bar.value = percent;
    cells.percent.textContent = ` ${percent}%`;
    cells.speed.textContent = job.speed && !FINISHED.has(job.state) ? `${job.speed.toFixed(1)}×` : "";
    cells.eta.textContent = eta(entry, job);
    cells.attempts.textContent = `${job.attempts} / ${job.max_attempts}`;
    cells.reason.textContent = job.failure_reason || "";
    if (cells.retry) {
      cells.retry.disabled = job.state !== "failed";
      cells.cancel.disabled = FINISHED.has(job.state);
    }
  }

  async function act(jobId, action) {
    const answer = await ops.api("POST", `/api/v1/jobs/${jobId}/${action}`, {});
    if (answer.ok) {
      show(answer.data, false);
      ops.flash(
        action === "retry" ? t(`任务 #${jobId} 已重新排队`, `Job #${jobId} queued again`) : t(`任务 #${jobId} 已取消`, `Job #${jobId} cancelled`),
        "ok"
      );
    } else {
      ops.flash(t(`任务 #${jobId}：`, `Job #${jobId}: `) + answer.error, "error");
    }
  }

  // A job the stream brings: updated in place, or a new row when it belongs on this page.
  function arrived(job) {
    if (rows.has(job.id)) {
      show(job, false);
    } else if (config.page === 1 && (!config.state || config.state === job.state)) {
      show(job, true);
    }
  }

  function follow() {
    const source = new EventSource(config.live);
    source.addEventListener("job", (event) => arrived(JSON.parse(event.data)));
    source.addEventListener("open", () => {
      note.textContent = t("实时更新中", "Live");
    });
    source.addEventListener("error", () => {
      // a dropped stream is reopened by the browser (with Last-Event-ID); a refusal (the session
      // ended: 401) closes it for good
      note.textContent =
        source.readyState === EventSource.CLOSED
          ? t("实时更新已停止，请刷新页面", "Live updates stopped; reload the page")
          : t("连接中断，正在重连…", "Disconnected; reconnecting…");
    });
  }

  async function poll() {
    const query = new URLSearchParams({ limit: "50", offset: String((config.page - 1) * 50) });
    if (config.state) {
      query.set("state", config.state);
    }
    const answer = await ops.api("GET", `/api/v1/jobs?${query}`);
    if (answer.ok) {
      for (const job of answer.data.items.slice().reverse()) {
        arrived(job);
      }
      note.textContent = t("每隔几秒刷新", "Refreshed every few seconds");
    }
    window.setTimeout(poll, config.poll_seconds * 1000);
  }

  for (const job of config.jobs.items) {
    show(job, false);
  }
  none.hidden = config.jobs.items.length > 0;
  // the desk links to /ops/jobs#job-N: the rows exist only now, so the browser could not scroll to it
  const linked = window.location.hash && document.getElementById(window.location.hash.slice(1));
  if (linked) {
    linked.scrollIntoView({ block: "center" });
    linked.classList.add("fresh");
  }
  if (config.live) {
    follow();
  } else {
    window.setTimeout(poll, config.poll_seconds * 1000);
  }
})();
