// The grid page (/ops/channels/{id}/grid): apply a new channel file (pasted or chosen) through
// POST /api/v1/channels/{id}/grid, based on the version the page shows. The answer is either
// the validation errors by file, line and key (nothing applied) or the change and the days rebuilt.
(() => {
  "use strict";

  const ops = window.rcmediaOps;
  const { t } = ops;
  const config = ops.config;
  const text = document.getElementById("grid-text");
  const errorsBox = document.getElementById("grid-errors");
  const appliedBox = document.getElementById("grid-applied");

  function cell(row, value, className) {
    const td = document.createElement("td");
    td.textContent = value === null || value === undefined ? "" : String(value);
    if (className) {
      td.className = className;
    }
    row.append(td);
  }

  // Select line ``number`` (1-based) of the text box, scrolled into view, to fix it in place.
  function selectLine(number) {
    const lines = text.value.split("\n");
    const start = lines.slice(0, number - 1).reduce((sum, line) => sum + line.length + 1, 0);
    const end = start + (lines[number - 1] || "").length;
    text.focus();
    text.setSelectionRange(start, end);
    const lineHeight = text.scrollHeight / Math.max(lines.length, 1);
    text.scrollTop = Math.max(0, (number - 3) * lineHeight);
  }

  function showErrors(errors) {
    const body = errorsBox.querySelector("tbody");
    body.replaceChildren();
    for (const error of errors) {
      const row = document.createElement("tr");
      cell(row, error.file);
      const where = document.createElement("td");
      where.className = "number";
      if (error.line) {
        const go = document.createElement("button");
        go.type = "button";
        go.className = "go-to-line";
        go.textContent = String(error.line);
        go.title = t(`在文件内容中选中第 ${error.line} 行`, `Select line ${error.line} in the file text`);
        go.addEventListener("click", () => selectLine(error.line));
        where.append(go);
      }
      row.append(where);
      cell(row, error.key, "mono");
      cell(row, error.problem, "error");
      body.append(row);
    }
    errorsBox.hidden = false;
  }

  function showApplied(applied) {
    const list = document.getElementById("grid-rebuilt");
    list.replaceChildren();
    if (!applied.changed) {
      const item = document.createElement("li");
      item.textContent = t("文件没有变化，没有重建。", "The file did not change; nothing was rebuilt.");
      list.append(item);
    }
    for (const output of applied.rebuilt) {
      const item = document.createElement("li");
      const days = output.days;
      const range = days.length ? `${days[0]} – ${days[days.length - 1]}` : "";
      item.textContent = t(
        `${output.output}：重建 ${days.length} 天（${range}），${output.events} 个节目`,
        `${output.output}: ${days.length} day(s) rebuilt (${range}), ${output.events} events`,
      );
      list.append(item);
    }
    if (applied.rebuild_error) {
      const item = document.createElement("li");
      item.className = "error";
      item.textContent = t(
        `文件已应用，但节目单没有重建：${applied.rebuild_error}`,
        `The file is applied, but its days were not rebuilt: ${applied.rebuild_error}`,
      );
      list.append(item);
    }
    document.getElementById("grid-diff").textContent = applied.diff || t("（无变化）", "(no change)");
    appliedBox.hidden = false;
  }

  async function apply(event) {
    event.preventDefault();
    errorsBox.hidden = true;
    appliedBox.hidden = true;
    const answer = await ops.api("POST", `/api/v1/channels/${config.channel}/grid`, {
      text: text.value,
      version: config.version,
    });
    if (answer.ok) {
      const applied = answer.data;
      config.version = applied.version;
      document.getElementById("grid-version").textContent = String(applied.version);
      document.getElementById("grid-source").textContent = text.value;
      showApplied(applied);
      ops.flash(t(`已应用（版本 ${applied.version}）`, `Applied (version ${applied.version})`), "ok");
      return;
    }
    if (answer.status === 422 && answer.data && answer.data.errors) {
      showErrors(answer.data.errors);
      ops.flash(t("文件有错误，未应用。", "The file has errors; nothing was applied."), "error");
      return;
    }
    const stale = answer.status === 409 ? t("（别人已应用了新版本：请刷新）", " (someone applied a newer version: reload)") : "";
    ops.flash(`${t("未应用：", "Not applied: ")}${answer.error}${stale}`, "error");
  }

  document.getElementById("grid-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (file) {
      text.value = await file.text();
    }
  });
  document.getElementById("grid-form").addEventListener("submit", apply);
})();
