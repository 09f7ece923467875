// The asset page (/ops/assets/{id}): save metadata and rights, withdraw after listing the
// scheduled airings it affects. Every write names the version the page was loaded with, so a
// change another editor saved since is refused (409) with the reason, never overwritten.
(() => {
  "use strict";

  const ops = window.rcmediaOps;
  const { t } = ops;
  const asset = ops.config.asset;
  const base = `/api/v1/assets/${asset.id}`;

  // After a write: the page holds the new version (and ETag), so the next write is based on it.
  function updated(result) {
    const saved = result.data;
    asset.version = saved.version;
    asset.etag = result.response.headers.get("ETag") || asset.etag;
    asset.status = saved.status;
    asset.rights = saved.rights;
    document.getElementById("asset-version").textContent = String(saved.version);
    document.getElementById("asset-status").textContent = saved.status;
  }

  function refused(result) {
    const stale = result.status === 409 ? t("（别人已修改此节目：请刷新后再改）", " (someone changed this asset: reload and try again)") : "";
    ops.flash(`${t("未保存：", "Not saved: ")}${result.error}${stale}`, "error");
  }

  function text(id, value) {
    document.getElementById(id).textContent = value === null || value === "" ? "—" : String(value);
  }

  async function saveMetadata(event) {
    event.preventDefault();
    const form = event.target;
    const episode = form.elements.episode.value.trim();
    const body = {
      title: form.elements.title.value,
      series: form.elements.series.value.trim() || null,
      episode: episode === "" ? null : Number(episode),
      description: form.elements.description.value,
      categories: form.elements.categories.value.split(/[,，]/).map((c) => c.trim()).filter(Boolean),
      version: asset.version,
    };
    const result = await ops.api("PATCH", base, body);
    if (!result.ok) {
      refused(result);
      return;
    }
    const saved = result.data;
    updated(result);
    document.getElementById("asset-title").textContent = saved.title;
    text("fact-series", saved.series);
    text("fact-episode", saved.episode);
    text("fact-categories", saved.categories.join(", "));
    text("fact-description", saved.description);
    ops.flash(t(`已保存（版本 ${saved.version}）`, `Saved (version ${saved.version})`), "ok");
  }

  // datetime-local (shown in UTC) -> ISO 8601 with Z, or null when empty
  function instant(value) {
    return value ? `${value}:00Z` : null;
  }

  async function saveRights(event) {
    event.preventDefault();
    const form = event.target;
    const rights = [];
    for (const row of form.querySelectorAll("tr[data-output]")) {
      const output = row.dataset.output;
      if (form.elements[`allowed-${output}`].checked) {
        rights.push({
          output,
          start: instant(form.elements[`start-${output}`].value),
          end: instant(form.elements[`end-${output}`].value),
        });
      }
    }
    const result = await ops.api("PUT", `${base}/rights`, rights, { "If-Match": asset.etag });
    if (!result.ok) {
      refused(result);
      return;
    }
    updated(result);
    ops.flash(t(`权利已保存（版本 ${result.data.version}）`, `Rights saved (version ${result.data.version})`), "ok");
  }

  const confirmBox = document.getElementById("withdraw-confirm");

  function cell(row, value) {
    const td = document.createElement("td");
    td.textContent = value;
    row.append(td);
  }

  function effect(airing) {
    if (airing.frozen) {
      return t("冻结期内，照常播出", "inside the freeze horizon: airs as built");
    }
    return airing.locked ? t("已锁定：保留，由编排员处理", "locked: kept for an operator to change") : t("由垫片替换", "replaced by the slate");
  }

  // First list what the withdrawal changes: the scheduled airings after the freeze horizon are
  // replaced by the slate; those inside it air as built.
  async function startWithdraw() {
    const result = await ops.api("GET", `${base}/airings?when=scheduled&limit=500`);
    if (!result.ok) {
      ops.flash(result.error, "error");
      return;
    }
    const airings = result.data.scheduled;
    // Rebuilds keep what starts inside the freeze horizon and every locked event (an operator's
    // decision); the rest is replaced by the slate. Frozen airings are the earliest, so all listed.
    const frozen = airings.filter((a) => a.frozen).length;
    const locked = airings.filter((a) => a.locked && !a.frozen).length;
    const replaced = result.data.scheduled_total - frozen - locked;
    const summary = document.getElementById("withdraw-summary");
    summary.textContent = airings.length
      ? t(
          `撤下会影响 ${result.data.scheduled_total} 次排播：${replaced} 次由垫片替换，${frozen} 次在冻结期内照常播出，${locked} 次已锁定（保留，由编排员处理）。`,
          `Withdrawing affects ${result.data.scheduled_total} scheduled airing(s): ${replaced} replaced by the slate, ${frozen} inside the freeze horizon air as built, ${locked} locked (kept for an operator to change).`,
        )
      : t("没有排播受影响。", "No scheduled airing is affected.");
    const body = document.querySelector("#withdraw-airings tbody");
    body.replaceChildren();
    for (const airing of airings) {
      const row = document.createElement("tr");
      cell(row, airing.channel);
      cell(row, airing.output);
      cell(row, airing.start.replace("T", " ").replace("Z", ""));
      cell(row, effect(airing));
      body.append(row);
    }
    document.getElementById("withdraw-airings").hidden = airings.length === 0;
    confirmBox.hidden = false;
    document.getElementById("withdraw-confirm-button").focus();
  }

  async function confirmWithdraw() {
    const result = await ops.api("POST", `${base}/withdraw`, {}, { "If-Match": asset.etag });
    if (!result.ok) {
      refused(result);
      return;
    }
    updated(result);
    confirmBox.hidden = true;
    document.getElementById("withdraw-start").disabled = true;
    ops.flash(t("已撤下。", "Withdrawn."), "ok");
  }

  if (ops.config.mayEdit) {
    document.getElementById("metadata-form").addEventListener("submit", saveMetadata);
    document.getElementById("rights-form").addEventListener("submit", saveRights);
    const start = document.getElementById("withdraw-start");
    if (start) {
      start.addEventListener("click", startWithdraw);
      document.getElementById("withdraw-confirm-button").addEventListener("click", confirmWithdraw);
      document.getElementById("withdraw-cancel").addEventListener("click", () => {
        confirmBox.hidden = true;
        start.focus();
      });
    }
  }
})();
