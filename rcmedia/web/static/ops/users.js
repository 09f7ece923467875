// The accounts page (/ops/users): a row per account, and a panel for the chosen one (role,
// channel limit, password, API tokens). Every change goes to /api/v1/users… with the account's
// version; what the server answers replaces the account on screen, a refusal changes nothing on
// screen and shows the server's reason.
(() => {
  "use strict";

  const ops = window.rcmediaOps;
  const { t, config } = ops;
  const users = new Map(config.users.map((user) => [user.name, user])); // name -> user document
  const body = document.getElementById("users");
  const panel = document.getElementById("account");
  const roleForm = document.getElementById("role-form");
  const channelsForm = document.getElementById("channels-form");
  const passwordForm = document.getElementById("password-form");
  const tokenForm = document.getElementById("token-form");
  const tokenBody = document.getElementById("tokens");
  const noTokens = document.getElementById("no-tokens");
  const secretBox = document.getElementById("secret");
  const secretText = document.getElementById("secret-text");
  const addForm = document.getElementById("add-form");
  const channelNames = new Map(config.channels.map((c) => [c.id, c.name]));
  const ZONE = "Asia/Shanghai";
  const when = new Intl.DateTimeFormat("sv-SE", {
    timeZone: ZONE,
    dateStyle: "short",
    timeStyle: "medium",
  });
  let chosen = null; // the name of the account in the panel

  function shown(iso) {
    return iso ? when.format(new Date(iso)) : "";
  }

  function userUrl(name) {
    return `/api/v1/users/${encodeURIComponent(name)}`;
  }

  function channelsText(user) {
    if (user.channels === null) {
      return t("所有频道", "every channel");
    }
    if (user.channels.length === 0) {
      return t("无", "none");
    }
    // in the channels' own order; an id no longer applied keeps its id, at the end
    const order = (id) => (channelNames.has(id) ? [...channelNames.keys()].indexOf(id) : channelNames.size);
    return [...user.channels].sort((a, b) => order(a) - order(b)).map((id) => channelNames.get(id) || id).join("、");
  }

  function button(label, action, className) {
    const node = document.createElement("button");
    node.type = "button";
    node.textContent = label;
    if (className) {
      node.className = className;
    }
    node.addEventListener("click", action);
    return node;
  }

  function drawRows() {
    body.replaceChildren();
    for (const user of [...users.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const row = document.createElement("tr");
      row.dataset.name = user.name;
      row.dataset.state = user.disabled ? "disabled" : "enabled";
      if (user.name === chosen) {
        row.className = "selected";
      }
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = user.name;
      const cells = [user.role, user.disabled ? t("已停用", "disabled") : t("启用", "enabled"), channelsText(user), shown(user.created_at)];
      row.append(name);
      cells.forEach((text, index) => {
        const cell = document.createElement("td");
        cell.textContent = text;
        cell.className = ["role", index === 1 && user.disabled ? "state bad" : "state", "channels", "mono"][index];
        row.append(cell);
      });
      const actions = document.createElement("td");
      actions.className = "actions";
      actions.append(
        button(t("管理", "Manage"), () => choose(user.name), "manage"),
        " ",
        button(user.disabled ? t("启用", "Enable") : t("停用", "Disable"), () => change(user.name, { disabled: !user.disabled }), "toggle")
      );
      row.append(actions);
      body.append(row);
    }
  }

  function drawPanel() {
    const user = users.get(chosen);
    panel.hidden = !user;
    if (!user) {
      return;
    }
    document.getElementById("account-title").textContent = t(`账号 ${user.name}`, `Account ${user.name}`);
    roleForm.elements.role.value = user.role;
    channelsForm.elements.all.checked = user.channels === null;
    for (const box of channelsForm.querySelectorAll("input[name=channel]")) {
      box.checked = user.channels !== null && user.channels.includes(box.value);
      box.disabled = user.channels === null;
    }
  }

  function remember(user) {
    users.set(user.name, user);
    drawRows();
    drawPanel();
  }

  async function choose(name) {
    chosen = name;
    secretBox.hidden = true;
    secretText.textContent = "";
    drawRows();
    drawPanel();
    await loadTokens();
    panel.scrollIntoView({ block: "nearest" });
  }

  // PATCH with the version shown: a change another admin made since is refused (409) with the reason
  async function change(name, fields) {
    const user = users.get(name);
    const answer = await ops.api("PATCH", userUrl(name), { ...fields, version: user.version });
    if (answer.ok) {
      remember(answer.data);
      ops.flash(t(`已保存：${name}`, `Saved: ${name}`), "ok");
    } else {
      drawPanel(); // the form shows the account as it is again
      ops.flash(t(`${name}：`, `${name}: `) + answer.error, "error");
    }
  }

  function tokenRow(token) {
    const row = document.createElement("tr");
    row.dataset.id = token.id;
    row.dataset.state = token.revoked_at ? "revoked" : "active";
    for (const [text, className] of [
      [String(token.id), "number mono"],
      [token.label || "", ""],
      [shown(token.created_at), "mono"],
      [shown(token.last_used_at) || t("从未", "never"), "mono"],
      [shown(token.revoked_at), "mono revoked"],
    ]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      cell.className = className;
      row.append(cell);
    }
    const actions = document.createElement("td");
    actions.className = "actions";
    if (!token.revoked_at) {
      actions.append(button(t("撤销", "Revoke"), () => revoke(token), "revoke"));
    }
    row.append(actions);
    return row;
  }

  async function loadTokens() {
    const name = chosen;
    const answer = await ops.api("GET", `${userUrl(name)}/tokens`);
    if (name !== chosen) {
      return;
    }
    tokenBody.replaceChildren();
    if (!answer.ok) {
      ops.flash(answer.error, "error");
      return;
    }
    tokenBody.append(...answer.data.items.map(tokenRow));
    noTokens.hidden = answer.data.items.length > 0;
  }

  async function revoke(token) {
    // with a JSON body: the CSRF guard refuses an API write of another type
    const answer = await ops.api("DELETE", `${userUrl(chosen)}/tokens/${token.id}`, {});
    if (answer.ok) {
      ops.flash(t(`令牌 #${token.id} 已撤销`, `Token #${token.id} revoked`), "ok");
      await loadTokens();
    } else {
      ops.flash(answer.error, "error");
    }
  }

  roleForm.addEventListener("submit", (event) => {
    event.preventDefault();
    change(chosen, { role: roleForm.elements.role.value });
  });

  channelsForm.elements.all.addEventListener("change", () => {
    for (const box of channelsForm.querySelectorAll("input[name=channel]")) {
      box.disabled = channelsForm.elements.all.checked;
    }
  });

  channelsForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const picked = [...channelsForm.querySelectorAll("input[name=channel]:checked")].map((box) => box.value);
    change(chosen, { channels: channelsForm.elements.all.checked ? null : picked });
  });

  passwordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = chosen;
    const answer = await ops.api("POST", `${userUrl(name)}/password`, { password: passwordForm.elements.password.value });
    if (answer.ok) {
      passwordForm.reset();
      remember(answer.data);
      ops.flash(t(`${name} 的密码已重置`, `Password of ${name} reset`), "ok");
    } else {
      ops.flash(t(`${name}：`, `${name}: `) + answer.error, "error");
    }
  });

  tokenForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const label = tokenForm.elements.label.value.trim();
    const answer = await ops.api("POST", `${userUrl(chosen)}/tokens`, label ? { label } : {});
    if (answer.ok) {
      tokenForm.reset();
      secretText.textContent = answer.data.secret;
      secretBox.hidden = false;
      ops.flash(t(`令牌 #${answer.data.id} 已创建`, `Token #${answer.data.id} created`), "ok");
      await loadTokens();
    } else {
      ops.flash(answer.error, "error");
    }
  });

  document.getElementById("copy-secret").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secretText.textContent);
      ops.flash(t("已复制到剪贴板", "Copied to the clipboard"), "ok");
    } catch (_error) {
      window.getSelection().selectAllChildren(secretText);
      ops.flash(t("请按 Ctrl+C 复制所选令牌", "Press Ctrl+C to copy the selected token"), "info");
    }
  });

  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const picked = [...addForm.querySelectorAll("input[name=channel]:checked")].map((box) => box.value);
    const fields = {
      name: addForm.elements.name.value.trim(),
      role: addForm.elements.role.value,
      password: addForm.elements.password.value,
      channels: picked.length ? picked : null,
    };
    const answer = await ops.api("POST", "/api/v1/users", fields);
    if (answer.ok) {
      addForm.reset();
      remember(answer.data);
      ops.flash(t(`已添加账号 ${answer.data.name}`, `Account ${answer.data.name} added`), "ok");
    } else {
      ops.flash(answer.error, "error");
    }
  });

  drawRows();
})();
