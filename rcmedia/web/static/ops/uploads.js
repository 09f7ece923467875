// The upload desk (/ops/uploads): tus-js-client against /api/v1/uploads, one card per file.
// A file added again after a dropped connection or a closed tab resumes from the offset the
// server reports (tus-js-client keeps each upload's URL in localStorage under the file's
// fingerprint: name, type, size, modification time and endpoint).
(() => {
  "use strict";

  const ops = window.rcmediaOps;
  const { t, config } = ops;
  const list = document.getElementById("uploads");
  const empty = document.getElementById("empty");
  const input = document.getElementById("files");
  const drop = document.getElementById("drop");
  const defaults = document.getElementById("defaults");
  document.getElementById("max-size").textContent = ops.formatBytes(config.max_upload_bytes);

  const SPEED_WINDOW_MS = 5000; // speed and time left from the bytes of the last few seconds
  const cards = [];

  // name, labels, whether PATCH /api/v1/assets/{id} can change it afterwards, multi-line
  const FIELDS = [
    { name: "title", zh: "标题", en: "Title", editable: true },
    { name: "series", zh: "系列", en: "Series", editable: true },
    { name: "episode", zh: "集数", en: "Episode", editable: true, inputmode: "numeric" },
    { name: "source", zh: "来源", en: "Source", editable: false, choices: config.sources },
    { name: "language", zh: "语言", en: "Language", editable: false },
    { name: "categories", zh: "分类（逗号分隔）", en: "Categories (comma-separated)", editable: true },
    { name: "description", zh: "简介", en: "Description", editable: true, multiline: true },
  ];

  const SOURCE_NAMES = { central: ["中央", "central"], provincial: ["省级", "provincial"], city: ["市级", "city"], own: ["自制", "own"] };
  const OUTPUT_NAMES = { tv: ["电视", "TV"], iptv: ["IPTV", "IPTV"], mobile: ["手机", "Mobile"] };
  // Rights dates are whole days in the sidecars' zone (Beijing time), before and after the upload.
  const RIGHTS_OFFSET = "+08:00";

  const STATES = {
    ready: ["待上传", "ready"],
    uploading: ["上传中", "uploading"],
    paused: ["已暂停", "paused"],
    resumed: ["已续传", "resumed"],
    done: ["完成", "done"],
    failed: ["失败", "failed"],
    cancelled: ["已取消", "cancelled"],
  };

  function stem(filename) {
    const base = filename.split(/[\\/]/).pop();
    const dot = base.lastIndexOf(".");
    return dot > 0 ? base.slice(0, dot) : base;
  }

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      node.setAttribute(key, value);
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  // The reason a tus request failed: the server's words when it answered, else the client's.
  function reasonOf(error) {
    const response = error && error.originalResponse;
    if (response && response.getStatus()) {
      const body = (response.getBody() || "").trim();
      try {
        const parsed = JSON.parse(body);
        if (parsed && typeof parsed.error === "string") {
          return `${parsed.error} (HTTP ${response.getStatus()})`;
        }
      } catch (_error) {
        // plain text
      }
      return `${body || t("服务器拒绝", "refused by the server")} (HTTP ${response.getStatus()})`;
    }
    return error && error.message ? error.message : String(error);
  }

  class Card {
    constructor(file) {
      this.file = file;
      this.upload = null;
      this.state = "ready";
      this.samples = [];
      this.jobId = null;
      this.assetId = null;
      this.resumedFrom = null;
      this.build();
    }

    build() {
      const id = `upload-${cards.length + 1}`;
      this.node = element("li", { class: "card upload", id });
      const heading = element("h3", { id: `${id}-name` }, this.file.name);
      this.stateLabel = element("span", { class: "state" });
      const status = element("p", { class: "status", role: "status" });
      status.append(this.stateLabel, " ", (this.resumeNote = element("span", { class: "muted resume-note" })));
      this.form = element("form", { class: "meta", "aria-labelledby": `${id}-name` });
      this.inputs = {};
      const fieldset = element("fieldset");
      fieldset.append(element("legend", {}, t("元数据", "Metadata")));
      for (const field of FIELDS) {
        const label = element("label", {}, t(field.zh, field.en));
        const control = element(field.choices ? "select" : field.multiline ? "textarea" : "input", { name: field.name });
        if (field.choices) {
          for (const choice of field.choices) {
            const [zh, en] = SOURCE_NAMES[choice] || [choice, choice];
            control.append(element("option", { value: choice }, t(zh, en)));
          }
        } else {
          control.setAttribute("autocomplete", "off");
        }
        if (field.inputmode) {
          control.setAttribute("inputmode", field.inputmode);
        }
        const preset = defaults.elements.namedItem(field.name);
        control.value = field.name === "title" ? stem(this.file.name) : preset ? preset.value.trim() : "";
        label.append(control);
        fieldset.append(label);
        this.inputs[field.name] = control;
      }
      this.rights = {};
      const rights = element("fieldset", { class: "rights" });
      rights.append(element("legend", {}, t("播出权（北京时间，日期可空）", "Rights (Beijing time; dates optional)")));
      for (const output of config.outputs) {
        const [zh, en] = OUTPUT_NAMES[output] || [output, output];
        const allowed = element("input", { type: "checkbox", name: `rights-${output}` });
        allowed.checked = true;
        const on = element("label", { class: "check" });
        on.append(allowed, ` ${t(zh, en)}`);
        const start = element("input", { type: "date", name: `rights-${output}-start` });
        const end = element("input", { type: "date", name: `rights-${output}-end` });
        const from = element("label", {}, t(`${zh} 起`, `${en} from`));
        from.append(start);
        const until = element("label", {}, t(`${zh} 止`, `${en} until`));
        until.append(end);
        rights.append(on, from, until);
        this.rights[output] = { allowed, start, end };
      }
      fieldset.append(rights);
      this.saveButton = element("button", { type: "submit", class: "save", hidden: "" }, t("保存元数据", "Save metadata"));
      this.form.append(fieldset, this.saveButton);
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.saveMetadata();
      });

      this.progress = element("progress", { max: "100", value: "0", "aria-label": t(`上传进度：${this.file.name}`, `Upload progress: ${this.file.name}`) });
      const figures = element("p", { class: "figures mono" });
      this.bytes = element("span", { class: "bytes" });
      this.speed = element("span", { class: "speed" });
      this.eta = element("span", { class: "eta" });
      figures.append(this.bytes, this.speed, this.eta);
      this.job = element("a", { class: "job", hidden: "" });
      this.error = element("p", { class: "error", role: "alert", hidden: "" });

      const buttons = element("div", { class: "buttons" });
      this.startButton = element("button", { type: "button", class: "start primary" }, t("开始上传", "Start upload"));
      this.pauseButton = element("button", { type: "button", class: "pause", hidden: "" }, t("暂停", "Pause"));
      this.cancelButton = element("button", { type: "button", class: "cancel" }, t("取消", "Cancel"));
      this.startButton.addEventListener("click", () => this.start());
      this.pauseButton.addEventListener("click", () => (this.state === "paused" ? this.resume() : this.pause()));
      this.cancelButton.addEventListener("click", () => this.cancel());
      buttons.append(this.startButton, this.pauseButton, this.cancelButton);

      this.node.append(heading, status, this.progress, figures, this.job, this.error, this.form, buttons);
      this.showBytes(0);
      this.setState("ready");
    }

    setState(state) {
      this.state = state;
      this.node.dataset.state = state;
      const [zh, en] = STATES[state];
      this.stateLabel.textContent = t(zh, en);
      this.stateLabel.className = `state state-${state === "done" ? "published" : state === "failed" ? "failed" : "running"}`;
      const active = state === "uploading" || state === "resumed" || state === "paused";
      this.startButton.hidden = state !== "ready" && state !== "failed";
      this.startButton.textContent = state === "failed" ? t("重试", "Try again") : t("开始上传", "Start upload");
      this.pauseButton.hidden = !active;
      this.pauseButton.textContent = state === "paused" ? t("继续", "Resume") : t("暂停", "Pause");
      this.cancelButton.hidden = state === "done" || state === "cancelled";
      const locked = active;
      for (const field of FIELDS) {
        this.inputs[field.name].disabled = locked || (state === "done" && !field.editable);
      }
      for (const { allowed, start, end } of Object.values(this.rights)) {
        allowed.disabled = start.disabled = end.disabled = locked;
      }
      this.saveButton.hidden = state !== "done" || this.assetId === null;
    }

    metadata() {
      const pairs = { filename: this.file.name, filetype: this.file.type || "application/octet-stream" };
      for (const field of FIELDS) {
        const value = this.inputs[field.name].value.trim();
        if (value) {
          pairs[field.name] = value;
        }
      }
      const table = {};
      let restricted = false;
      for (const [output, { allowed, start, end }] of Object.entries(this.rights)) {
        if (!allowed.checked) {
          restricted = true; // an output left out of the table is off
          continue;
        }
        table[output] = {};
        if (start.value) {
          table[output].start = start.value;
        }
        if (end.value) {
          table[output].end = end.value;
        }
        restricted = restricted || Boolean(start.value || end.value);
      }
      if (restricted) {
        pairs.rights = JSON.stringify(table);
      }
      return pairs;
    }

    // PUT /api/v1/assets/{id}/rights: the whole list of windows, one per output allowed.
    rightsList() {
      const instant = (day) => (day ? `${day}T00:00:00${RIGHTS_OFFSET}` : null);
      return Object.entries(this.rights)
        .filter(([, { allowed }]) => allowed.checked)
        .map(([output, { start, end }]) => ({ output, start: instant(start.value), end: instant(end.value) }));
    }

    showBytes(sent) {
      this.bytes.textContent = `${ops.formatBytes(sent)} / ${ops.formatBytes(this.file.size)}`;
      this.progress.value = this.file.size ? Math.floor((sent / this.file.size) * 100) : 0;
    }

    onProgress(sent, total) {
      const now = performance.now();
      this.samples.push([now, sent]);
      while (this.samples.length > 2 && now - this.samples[0][0] > SPEED_WINDOW_MS) {
        this.samples.shift();
      }
      this.showBytes(sent);
      this.progress.value = total ? Math.floor((sent / total) * 100) : 0;
      const [firstTime, firstBytes] = this.samples[0];
      const seconds = (now - firstTime) / 1000;
      if (seconds > 0.2 && sent > firstBytes) {
        const rate = (sent - firstBytes) / seconds;
        this.speed.textContent = `${ops.formatBytes(rate)}/s`;
        this.eta.textContent = t("剩余 ", "left ") + ops.formatSeconds((total - sent) / rate);
      }
      if (this.state === "resumed" && sent > (this.resumedFrom || 0)) {
        this.setState("uploading");
      }
    }

    async start() {
      if (!window.tus || !window.tus.isSupported) {
        this.fail(t("此浏览器不支持断点续传上传（tus）。", "This browser cannot do resumable (tus) uploads."));
        return;
      }
      if (this.file.size > config.max_upload_bytes) {
        this.fail(t(`文件大于上限 ${ops.formatBytes(config.max_upload_bytes)}`, `The file is larger than the limit of ${ops.formatBytes(config.max_upload_bytes)}`));
        return;
      }
      this.error.hidden = true;
      this.upload = new window.tus.Upload(this.file, {
        endpoint: config.endpoint,
        chunkSize: config.chunk_bytes,
        retryDelays: config.retry_delays,
        metadata: this.metadata(),
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        onProgress: (sent, total) => this.onProgress(sent, total),
        onAfterResponse: (request, response) => this.onResponse(request, response),
        onSuccess: () => this.done(),
        onError: (error) => this.fail(reasonOf(error)),
      });
      const previous = await this.upload.findPreviousUploads();
      if (previous.length) {
        // the newest earlier attempt at this very file: HEAD gives its offset, and the bytes go on from there
        previous.sort((a, b) => String(b.creationTime).localeCompare(String(a.creationTime)));
        this.upload.resumeFromPreviousUpload(previous[0]);
        this.resumedFrom = 0;
        this.setState("resumed");
      } else {
        this.setState("uploading");
      }
      this.upload.start();
    }

    onResponse(request, response) {
      const job = response.getHeader("Rcmedia-Job");
      if (job) {
        this.jobId = Number(job);
      }
      const offset = response.getHeader("Upload-Offset");
      if (request.getMethod() === "HEAD" && offset !== null && offset !== undefined && this.state === "resumed") {
        this.resumedFrom = Number(offset);
        this.resumeNote.textContent = t(`从 ${ops.formatBytes(this.resumedFrom)} 处继续`, `from ${ops.formatBytes(this.resumedFrom)} on`);
        this.showBytes(this.resumedFrom);
      }
    }

    pause() {
      if (this.upload) {
        this.upload.abort(false);
        this.setState("paused");
        this.speed.textContent = "";
        this.eta.textContent = "";
      }
    }

    resume() {
      this.samples = [];
      this.resumedFrom = this.upload.offset || 0;
      this.resumeNote.textContent = "";
      this.setState("resumed");
      this.upload.start();
    }

    async cancel() {
      if (this.upload && this.upload.url) {
        try {
          await this.upload.abort(true); // tus termination: the server deletes what it has
        } catch (error) {
          ops.flash(t("取消失败：", "Could not cancel: ") + reasonOf(error), "error");
          return;
        }
      } else if (this.upload) {
        await this.upload.abort(false);
      }
      this.setState("cancelled");
      this.node.remove();
      cards.splice(cards.indexOf(this), 1);
      empty.hidden = cards.length > 0;
      ops.flash(t(`已取消：${this.file.name}`, `Cancelled: ${this.file.name}`), "info");
    }

    fail(reason) {
      this.error.textContent = reason;
      this.error.hidden = false;
      this.speed.textContent = "";
      this.eta.textContent = "";
      this.setState("failed");
    }

    async done() {
      this.showBytes(this.file.size);
      this.speed.textContent = "";
      this.eta.textContent = "";
      if (this.jobId === null && this.upload.url) {
        const answer = await ops.api("GET", new URL(this.upload.url, window.location.href).pathname);
        if (answer.ok && answer.data.job_id !== null) {
          this.jobId = answer.data.job_id;
        }
      }
      if (this.jobId !== null) {
        const job = await ops.api("GET", `/api/v1/jobs/${this.jobId}`);
        if (job.ok) {
          this.assetId = job.data.asset_id;
          await this.loadVersion();
        }
        this.job.href = `/ops/jobs#job-${this.jobId}`;
        this.job.textContent = t(`任务 #${this.jobId}`, `Job #${this.jobId}`);
        this.job.hidden = false;
      }
      this.setState("done");
    }

    // What the desk last knew of the asset's editable fields. The asset's version also moves when
    // its job publishes it, which is no reason to refuse a save; a change of these fields by
    // someone else is, so a save compares them first and never writes over theirs unseen.
    async fetchAsset() {
      const asset = await ops.api("GET", `/api/v1/assets/${this.assetId}`);
      return asset.ok ? asset : null;
    }

    static editable(asset) {
      const { title, series, episode, description, categories, rights } = asset;
      return JSON.stringify({ title, series, episode, description, categories, rights });
    }

    async loadVersion() {
      const asset = await this.fetchAsset();
      if (asset !== null) {
        this.known = Card.editable(asset.data);
      }
      return asset !== null;
    }

    refused(answer, what) {
      ops.flash(t(`${what}未保存：`, `${what} not saved: `) + answer.error, "error");
    }

    // After the upload: the asset exists (its job made it), so its metadata is changed through the API.
    async saveMetadata() {
      if (this.assetId === null) {
        return;
      }
      const current = await this.fetchAsset();
      if (current === null) {
        ops.flash(t("未保存：读不到这个节目", "Not saved: the asset cannot be read"), "error");
        return;
      }
      if (this.known !== undefined && Card.editable(current.data) !== this.known) {
        this.known = Card.editable(current.data); // seen now: saving again is the editor's decision
        ops.flash(
          t(
            `未保存：有人先改了这个节目（现在的标题：${current.data.title}）。请核对后再保存。`,
            `Not saved: someone changed this asset first (its title is now: ${current.data.title}). Check it and save again.`,
          ),
          "error",
        );
        return;
      }
      const episode = this.inputs.episode.value.trim();
      const body = {
        title: this.inputs.title.value.trim(),
        series: this.inputs.series.value.trim() || null,
        episode: episode === "" ? null : /^\d+$/.test(episode) ? Number(episode) : episode,
        description: this.inputs.description.value.trim(),
        categories: this.inputs.categories.value.split(",").map((c) => c.trim()).filter(Boolean),
        version: current.data.version, // and nobody may change it between that read and this write
      };
      const answer = await ops.api("PATCH", `/api/v1/assets/${this.assetId}`, body);
      if (!answer.ok) {
        this.refused(answer, t("元数据", "Metadata"));
        return;
      }
      this.known = Card.editable(answer.data);
      const rights = await ops.api("PUT", `/api/v1/assets/${this.assetId}/rights`, this.rightsList(), {
        "If-Match": answer.response.headers.get("ETag"),
      });
      if (!rights.ok) {
        this.refused(rights, t("播出权", "Rights"));
        return;
      }
      this.known = Card.editable(rights.data);
      ops.flash(t(`已保存：${body.title}`, `Saved: ${body.title}`), "ok");
    }
  }

  function add(files) {
    const autostart = defaults.elements.namedItem("autostart").checked;
    for (const file of files) {
      const card = new Card(file);
      cards.push(card);
      list.append(card.node);
      if (autostart) {
        card.start();
      }
    }
    empty.hidden = cards.length > 0;
  }

  input.addEventListener("change", () => {
    add(Array.from(input.files));
    input.value = ""; // the same file may be added again (to resume it)
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    add(Array.from(event.dataTransfer.files));
  });
  document.getElementById("start-all").addEventListener("click", () => {
    for (const card of cards) {
      if (card.state === "ready" || card.state === "failed") {
        card.start();
      }
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (cards.some((card) => card.state === "uploading" || card.state === "resumed")) {
      event.preventDefault(); // the upload resumes when the file is added again, but ask first
    }
  });
})();
