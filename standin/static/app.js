// The stand-in's page: a small Slack over /ui/api/ (standin/ui.py).
//
// Everything shown comes from the server's state for one person, fetched by a long poll, and
// is re-drawn when it changes. Text from people and from the app is data: the DOM is built
// with createElement and textContent only, never innerHTML, and links keep only http(s) and
// mailto addresses.
"use strict";

(() => {
  const params = new URLSearchParams(location.search);
  const ui = {
    user: params.get("user"),
    where: params.get("view") || "dm", // "dm", "home" or a channel id
    state: null,
    lastJson: "",
    poll: 0, // generation: a new poll (another person) makes the old one stop
    abort: null,
    seen: {}, // "user:channel" -> the last ts seen there (unread counts)
    modalKey: "",
    errorKind: "",
  };

  // -- DOM helpers ------------------------------------------------------------------------------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const $ = (id) => document.getElementById(id);

  // -- mrkdwn -----------------------------------------------------------------------------------

  const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">" };
  const decode = (text) => String(text).replace(/&(amp|lt|gt);/g, (m) => ENTITIES[m]);

  function safeUrl(url) {
    try {
      const parsed = new URL(decode(url));
      return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function personName(id) {
    const person = (ui.state?.people || []).find((p) => p.id === id);
    if (person) return person.real_name;
    if (ui.state && id === ui.state.bot.id) return ui.state.bot.name;
    return null;
  }

  function channelName(id) {
    const conv = (ui.state?.conversations || []).find((c) => c.id === id);
    return conv && conv.kind === "channel" ? conv.name : null;
  }

  // <...>: mentions, channels, specials and links, as Slack writes them in mrkdwn.
  function special(inner) {
    const bar = inner.indexOf("|");
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : "";
    if (/^@[UW][A-Z0-9]+$/.test(target)) {
      const id = target.slice(1);
      const name = personName(id) || decode(label) || id;
      return el("span", { className: "mention" + (id === ui.user ? " self" : ""), "data-user": id }, "@" + name);
    }
    if (/^#C[A-Z0-9]+$/.test(target)) {
      const name = decode(label) || channelName(target.slice(1)) || target.slice(1);
      return el("span", { className: "mention" }, "#" + name);
    }
    if (target.startsWith("!")) {
      const word = target.slice(1);
      if (["here", "channel", "everyone"].includes(word)) return el("span", { className: "mention" }, "@" + word);
      return document.createTextNode(decode(label || word)); // !date^..|fallback, !subteam^..|@team
    }
    const url = safeUrl(target);
    const shown = decode(label || target);
    if (!url) return document.createTextNode(shown); // javascript:, data: and the like stay text
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, shown);
  }

  const INLINE = new RegExp(
    [
      "`([^`\\n]+)`",
      "<([^<>\\n]+)>",
      "(?<![\\w*])\\*(?!\\s)([^*\\n]+?)(?<!\\s)\\*(?![\\w*])",
      "(?<![\\w_])_(?!\\s)([^_\\n]+?)(?<!\\s)_(?![\\w_])",
      "(?<![\\w~])~(?!\\s)([^~\\n]+?)(?<!\\s)~(?![\\w~])",
    ].join("|"),
    "g",
  );

  function inline(text) {
    const out = [];
    let at = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > at) out.push(document.createTextNode(decode(text.slice(at, m.index))));
      if (m[1] !== undefined) out.push(el("code", {}, decode(m[1])));
      else if (m[2] !== undefined) out.push(special(m[2]));
      else if (m[3] !== undefined) out.push(el("b", {}, inline(m[3])));
      else if (m[4] !== undefined) out.push(el("i", {}, inline(m[4])));
      else if (m[5] !== undefined) out.push(el("s", {}, inline(m[5])));
      at = m.index + m[0].length;
    }
    if (at < text.length) out.push(document.createTextNode(decode(text.slice(at))));
    return out;
  }

  function mrkdwn(text) {
    const box = el("div", { className: "text" });
    const pieces = String(text || "").split("```");
    pieces.forEach((piece, i) => {
      if (i % 2 === 1 && i < pieces.length - 1) {
        box.append(el("pre", {}, decode(piece.replace(/^\n/, "").replace(/\n$/, ""))));
        return;
      }
      if (i % 2 === 1) piece = "```" + piece; // an unclosed fence is text
      const lines = piece.split("\n");
      let quote = null;
      lines.forEach((line, n) => {
        const quoted = /^(&gt;|>)\s?/.exec(line);
        if (quoted) {
          if (!quote) {
            quote = el("blockquote");
            box.append(quote);
          } else quote.append("\n");
          quote.append(...inline(line.slice(quoted[0].length)));
          return;
        }
        quote = null;
        box.append(...inline(line));
        if (n < lines.length - 1) box.append("\n");
      });
    });
    return box;
  }

  function textObject(obj) {
    if (!obj) return el("span");
    if (obj.type === "mrkdwn" && !obj.verbatim) return mrkdwn(obj.text);
    return el("span", { className: "text" }, decode(obj.text || ""));
  }

  const plain = (obj) => decode((obj && obj.text) || "");

  // -- Block Kit --------------------------------------------------------------------------------

  let uid = 0;
  const nextId = (prefix) => `${prefix}-${++uid}`;

  // where: {surface: "message", channel, ts} or {surface: "view", view}
  function blocks(list, where) {
    const box = el("div", { className: "blocks" });
    for (const block of list || []) box.append(renderBlock(block, where));
    return box;
  }

  function renderBlock(block, where) {
    switch (block.type) {
      case "section": {
        const main = el("div", { className: "section-main" });
        if (block.text) main.append(textObject(block.text));
        if (block.fields && block.fields.length) main.append(el("div", { className: "fields" }, block.fields.map(textObject)));
        const row = el("div", { className: "block-section" }, main);
        if (block.accessory) row.append(element(block.accessory, block, where));
        return row;
      }
      case "header":
        return el("div", { className: "block-header", role: "heading", "aria-level": "3" }, plain(block.text));
      case "divider":
        return el("hr", { className: "block-divider" });
      case "context":
        return el("div", { className: "block-context" }, (block.elements || []).map((item) =>
          item.type === "image" ? image(item, "") : textObject(item)));
      case "actions":
        return el("div", { className: "block-actions" }, (block.elements || []).map((item) => element(item, block, where)));
      case "image": {
        const img = image(block, "");
        return el("figure", { className: "block-image" }, block.title ? el("figcaption", {}, plain(block.title)) : null, img);
      }
      case "input":
        return inputBlock(block, where);
      case "rich_text":
        return el("div", { className: "text" }, richText(block.elements || []));
      case "markdown":
        return mrkdwn(block.text || "");
      default:
        return el("div", { className: "unsupported" }, `[${block.type} block: not shown by the stand-in]`);
    }
  }

  function richText(elements) {
    const out = [];
    for (const part of elements) {
      if (part.elements) out.push(...richText(part.elements));
      else if (part.type === "text") out.push(part.text || "");
      else if (part.type === "link") {
        const url = safeUrl(part.url || "");
        out.push(url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, part.text || part.url) : part.text || "");
      } else if (part.type === "user") out.push(el("span", { className: "mention" }, "@" + (personName(part.user_id) || part.user_id)));
      else if (part.type === "channel") out.push(el("span", { className: "mention" }, "#" + (channelName(part.channel_id) || part.channel_id)));
    }
    return out;
  }

  function image(item, cls) {
    const url = safeUrl(item.image_url || "");
    if (!url) return el("span", { className: "unsupported" }, `[image: ${item.alt_text || ""}]`);
    return el("img", { src: url, alt: item.alt_text || "", className: cls, loading: "lazy", referrerpolicy: "no-referrer" });
  }

  function stateOf(where, blockId, actionId) {
    if (where.surface !== "view") return undefined;
    const values = (where.view.state && where.view.state.values) || {};
    return (values[blockId] || {})[actionId];
  }

  function optionList(item) {
    const options = [];
    for (const opt of item.options || []) options.push(opt);
    for (const group of item.option_groups || []) options.push(...(group.options || []));
    return options;
  }

  // An interactive element; `inInput` when it is a modal input (its value waits for Submit).
  function element(item, block, where, inInput, controlId) {
    const send = (value) => act(where, block, item, value);
    switch (item.type) {
      case "button": {
        const url = item.url ? safeUrl(item.url) : null;
        const button = el("button", {
          type: "button",
          className: "btn" + (item.style === "primary" ? " primary" : item.style === "danger" ? " danger" : ""),
          "data-action-id": item.action_id,
        }, plain(item.text));
        button.addEventListener("click", async () => {
          if (url) window.open(url, "_blank", "noopener,noreferrer");
          button.disabled = true;
          try {
            await send(null);
          } finally {
            button.disabled = false;
          }
        });
        return button;
      }
      case "static_select":
      case "overflow":
      case "multi_static_select": {
        const multiple = item.type === "multi_static_select";
        const select = el("select", { className: "control", id: controlId, multiple, "data-action-id": item.action_id });
        const state = stateOf(where, block.block_id, item.action_id);
        const chosen = new Set();
        if (state && state.selected_option) chosen.add(state.selected_option.value);
        else if (state && state.selected_options) state.selected_options.forEach((o) => chosen.add(o.value));
        else if (!state && item.initial_option) chosen.add(item.initial_option.value);
        else if (!state && item.initial_options) item.initial_options.forEach((o) => chosen.add(o.value));
        if (!multiple) {
          const label = item.type === "overflow" ? "⋯" : plain(item.placeholder) || "Select an option";
          select.append(el("option", { value: "", disabled: true, selected: chosen.size === 0 }, label));
        }
        const addOption = (parent, opt) => parent.append(el("option", { value: opt.value, selected: chosen.has(opt.value) }, plain(opt.text)));
        for (const opt of item.options || []) addOption(select, opt);
        for (const group of item.option_groups || []) {
          const optgroup = el("optgroup", { label: plain(group.label) });
          for (const opt of group.options || []) addOption(optgroup, opt);
          select.append(optgroup);
        }
        select.addEventListener("change", () => {
          const value = multiple ? [...select.selectedOptions].map((o) => o.value) : select.value;
          if (!inInput || item.dispatch_action || block.dispatch_action) send(value);
          else remember(where, block, item, value);
        });
        return select;
      }
      case "checkboxes":
      case "radio_buttons": {
        const kind = item.type === "checkboxes" ? "checkbox" : "radio";
        const name = nextId("choice");
        const state = stateOf(where, block.block_id, item.action_id);
        const chosen = new Set();
        if (state && state.selected_option) chosen.add(state.selected_option.value);
        else if (state && state.selected_options) state.selected_options.forEach((o) => chosen.add(o.value));
        else if (!state) {
          if (item.initial_option) chosen.add(item.initial_option.value);
          (item.initial_options || []).forEach((o) => chosen.add(o.value));
        }
        const group = el("div", { className: "choices", role: kind === "radio" ? "radiogroup" : "group", id: controlId,
          "data-action-id": item.action_id });
        for (const opt of optionList(item)) {
          const id = nextId("opt");
          const input = el("input", { type: kind, id, name, value: opt.value, checked: chosen.has(opt.value) });
          input.addEventListener("change", () => {
            const values = [...group.querySelectorAll("input:checked")].map((i) => i.value);
            const value = kind === "radio" ? values[0] || null : values;
            if (!inInput || item.dispatch_action || block.dispatch_action) send(value);
            else remember(where, block, item, value);
          });
          const text = el("span", {}, textObject(opt.text), opt.description ? el("span", { className: "choice-desc" }, plain(opt.description)) : null);
          group.append(el("label", { className: "choice", for: id }, input, text));
        }
        return group;
      }
      case "datepicker":
      case "timepicker": {
        const state = stateOf(where, block.block_id, item.action_id);
        const key = item.type === "datepicker" ? "selected_date" : "selected_time";
        const initial = state ? state[key] : item.type === "datepicker" ? item.initial_date : item.initial_time;
        const input = el("input", { type: item.type === "datepicker" ? "date" : "time", className: "control", id: controlId,
          value: initial || null, "data-action-id": item.action_id });
        input.addEventListener("change", () => {
          if (!inInput || item.dispatch_action || block.dispatch_action) send(input.value || null);
          else remember(where, block, item, input.value || null);
        });
        return input;
      }
      case "plain_text_input":
      case "number_input":
      case "email_text_input":
      case "url_text_input": {
        const state = stateOf(where, block.block_id, item.action_id);
        const initial = state ? state.value : item.initial_value;
        const props = { className: "control wide", id: controlId, placeholder: plain(item.placeholder) || null,
          "data-action-id": item.action_id };
        const input = item.multiline ? el("textarea", props) : el("input", { ...props, type: "text",
          inputmode: item.type === "number_input" ? "decimal" : null });
        input.value = initial || "";
        return input;
      }
      case "image":
        return image(item, "");
      default:
        return el("span", { className: "unsupported" }, `[${item.type}: not shown by the stand-in]`);
    }
  }

  function inputBlock(block, where) {
    const item = block.element || {};
    const controlId = nextId("input");
    const error = where.surface === "view" ? (where.view.errors || {})[block.block_id] : null;
    const labelId = nextId("label");
    const grouped = item.type === "checkboxes" || item.type === "radio_buttons";
    const label = grouped
      ? el("span", { className: "input-label", id: labelId }, plain(block.label), block.optional ? el("span", { className: "optional" }, " (optional)") : null)
      : el("label", { className: "input-label", for: controlId, id: labelId }, plain(block.label),
        block.optional ? el("span", { className: "optional" }, " (optional)") : null);
    const control = element(item, block, where, true, controlId);
    if (grouped) control.setAttribute("aria-labelledby", labelId);
    const box = el("div", {
      className: "input-block" + (error ? " invalid" : ""),
      "data-input-block": "", "data-block-id": block.block_id, "data-action-id": item.action_id || "", "data-kind": item.type,
    }, label, control);
    if (block.hint) box.append(el("div", { className: "hint" }, plain(block.hint)));
    if (error) box.append(el("div", { className: "input-error", role: "alert" }, decode(error)));
    return box;
  }

  function inputValues(root) {
    const values = {};
    for (const box of root.querySelectorAll("[data-input-block]")) {
      const kind = box.dataset.kind;
      let value = null;
      if (["checkboxes"].includes(kind)) value = [...box.querySelectorAll("input:checked")].map((i) => i.value);
      else if (kind === "radio_buttons") value = box.querySelector("input:checked")?.value || null;
      else if (kind === "multi_static_select") value = [...box.querySelector("select").selectedOptions].map((o) => o.value);
      else {
        const control = box.querySelector("select, input, textarea");
        value = control ? control.value : null;
      }
      if (value === "") value = null;
      if (box.dataset.actionId) values[box.dataset.blockId] = { [box.dataset.actionId]: value };
    }
    return values;
  }

  // -- talking to the stand-in ------------------------------------------------------------------

  async function post(path, body) {
    let response;
    try {
      response = await fetch("/ui/api/" + path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user: ui.user, ...body }),
      });
    } catch (e) {
      showError("The stand-in did not answer: is it still running?");
      return { ok: false, status: 0 };
    }
    let data;
    try {
      data = await response.json();
    } catch (e) {
      data = { ok: false, error: `the stand-in answered HTTP ${response.status}` };
    }
    data.status = response.status;
    if (!data.ok) showError(data.error || `HTTP ${response.status}`);
    else if (ui.errorKind === "action") hideError();
    return data;
  }

  function act(where, block, item, value) {
    const body = { block_id: block.block_id, action_id: item.action_id, value };
    if (where.surface === "view") body.view_id = where.view.id;
    else {
      body.channel = where.channel;
      body.ts = where.ts;
      // What this screen shows, as Slack's client sends it: a late click on a button that is
      // already gone elsewhere still says what was clicked.
      body.element = { type: item.type, value: item.value, text: item.text };
    }
    return post("action", body);
  }

  function remember(where, block, item, value) {
    if (where.surface !== "view") return;
    post("action", { view_id: where.view.id, block_id: block.block_id, action_id: item.action_id, value });
  }

  function showError(text, kind) {
    ui.errorKind = kind || "action";
    $("error-text").textContent = text;
    $("error-banner").hidden = false;
  }

  function hideError() {
    ui.errorKind = "";
    $("error-banner").hidden = true;
  }

  const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function poll() {
    const generation = ++ui.poll;
    if (ui.abort) ui.abort.abort();
    const abort = new AbortController();
    ui.abort = abort;
    let since = null;
    let failures = 0;
    while (generation === ui.poll) {
      const query = new URLSearchParams({ user: ui.user || "" });
      if (since !== null) query.set("since", String(since));
      try {
        const response = await fetch("/ui/api/state?" + query, { signal: abort.signal, cache: "no-store" });
        const data = await response.json();
        if (generation !== ui.poll) return;
        if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
        failures = 0;
        if (ui.errorKind === "connection") hideError();
        since = data.version;
        apply(data);
      } catch (e) {
        if (generation !== ui.poll || e.name === "AbortError") return;
        failures += 1;
        showError(`Lost the stand-in (${e.message}); trying again…`, "connection");
        await delay(Math.min(5000, 400 * failures));
      }
    }
  }

  // -- drawing ----------------------------------------------------------------------------------

  function apply(data) {
    const json = JSON.stringify({ ...data, version: 0 });
    if (json === ui.lastJson) return;
    ui.lastJson = json;
    ui.state = data;
    if (!ui.user) {
      ui.user = data.user.id;
      saveLocation();
    }
    draw();
  }

  function saveLocation() {
    const query = new URLSearchParams({ user: ui.user || "", view: ui.where });
    history.replaceState(null, "", "?" + query);
  }

  const initials = (name) => name.split(/[\s.]+/).filter(Boolean).slice(0, 2).map((w) => w[0]).join("");

  function avatarFor(id) {
    const s = ui.state;
    if (id === s.bot.id) return el("span", { className: "avatar bot", "aria-hidden": "true" }, "mb");
    const name = personName(id) || id || "?";
    let hue = 0;
    for (const c of id || "") hue = (hue * 31 + c.charCodeAt(0)) % 360;
    const avatar = el("span", { className: "avatar", "aria-hidden": "true" }, initials(name));
    avatar.style.background = `hsl(${hue} 45% 42%)`;
    return avatar;
  }

  function timeOf(ts) {
    const date = new Date(parseFloat(ts) * 1000);
    try {
      return date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit", timeZone: ui.state.user.tz });
    } catch (e) {
      return date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
    }
  }

  function conversation() {
    const s = ui.state;
    if (ui.where === "home") return null;
    return s.conversations.find((c) => (ui.where === "dm" ? c.kind === "dm" : c.id === ui.where)) || null;
  }

  function draw() {
    const s = ui.state;
    const conv = conversation();
    if (!conv && ui.where !== "home") {
      ui.where = "dm";
      saveLocation();
    }
    drawSwitcher();
    drawSidebar();
    if (ui.where === "home") drawHome();
    else drawConversation(conversation());
    drawModal();
    document.title = `${ui.where === "home" ? "Home" : conversation().kind === "dm" ? s.bot.name : "#" + conversation().name} · ${s.team.name}`;
  }

  function drawSwitcher() {
    const s = ui.state;
    const select = $("user-switcher");
    const wanted = s.people.map((p) => `${p.id}|${p.real_name}|${p.title}`).join("\n");
    if (select.dataset.people !== wanted) {
      select.replaceChildren(...s.people.map((p) =>
        el("option", { value: p.id }, p.title ? `${p.real_name} · ${p.title}` : p.real_name)));
      select.dataset.people = wanted;
    }
    select.value = s.user.id;
    $("me-name").textContent = s.user.real_name;
    $("me-title").textContent = s.user.title || "";
    $("me-title").title = s.user.title || "";
    $("me-avatar").replaceWith(Object.assign(avatarFor(s.user.id), { id: "me-avatar" }));
    $("team-name").textContent = s.team.name;
    $("team-app").textContent = s.app.connected ? `${s.bot.name} at ${s.app.url}` : `no app connected`;
    $("team-app").classList.toggle("off", !s.app.connected);
  }

  function unreadIn(conv) {
    const seen = ui.seen[`${ui.user}:${conv.id}`] || "0";
    return conv.items.filter((i) => i.user !== ui.user && compareTs(i.ts, seen) > 0).length;
  }

  function compareTs(a, b) {
    const [as, au] = a.split(".").map(Number);
    const [bs, bu] = b.split(".").map(Number);
    return as - bs || (au || 0) - (bu || 0);
  }

  function drawSidebar() {
    const s = ui.state;
    const list = $("channel-list");
    list.replaceChildren(...s.conversations.filter((c) => c.kind === "channel").map((c) => {
      const unread = ui.where === c.id ? 0 : unreadIn(c);
      const button = el("button", {
        type: "button", className: "nav-item" + (ui.where === c.id ? " active" : "") + (unread ? " has-unread" : ""),
        "data-testid": `nav-channel-${c.name}`,
        onclick: () => go(c.id),
      }, el("span", { className: "nav-icon", "aria-hidden": "true" }, "#"), el("span", { className: "nav-label" }, c.name),
      unread ? el("span", { className: "unread" }, String(unread)) : null);
      return el("li", {}, button);
    }));
    const dm = s.conversations.find((c) => c.kind === "dm");
    $("nav-dm-label").textContent = s.bot.name;
    $("nav-dm").classList.toggle("active", ui.where === "dm");
    $("nav-home").classList.toggle("active", ui.where === "home");
    const unread = ui.where === "dm" || !dm ? 0 : unreadIn(dm);
    $("nav-dm").classList.toggle("has-unread", unread > 0);
    $("nav-dm-unread").hidden = !unread;
    $("nav-dm-unread").textContent = String(unread);
  }

  function header(title, sub, tabs) {
    const box = $("conv-header");
    box.replaceChildren(el("span", { className: "conv-title" }, title));
    if (tabs) box.append(tabs);
    if (sub) box.append(el("span", { className: "conv-sub" }, sub));
  }

  function appTabs() {
    const s = ui.state;
    return el("div", { className: "tabs", role: "tablist" },
      el("button", { type: "button", role: "tab", className: "tab" + (ui.where === "home" ? " active" : ""), "aria-selected": String(ui.where === "home"), onclick: () => go("home") }, "Home"),
      el("button", { type: "button", role: "tab", className: "tab" + (ui.where === "dm" ? " active" : ""), "aria-selected": String(ui.where === "dm"), onclick: () => go("dm") }, "Messages"),
      el("span", { className: "badge" }, "APP"));
  }

  function drawConversation(conv) {
    const s = ui.state;
    $("home").hidden = true;
    $("messages").hidden = false;
    $("composer-form").hidden = false;
    if (conv.kind === "dm") header(s.bot.name, "", appTabs());
    else header("# " + conv.name, `${conv.members} members`);
    $("composer").placeholder = conv.kind === "dm" ? `Message ${s.bot.name}` : `Message #${conv.name}`;

    const list = $("messages");
    const switched = list.dataset.conv !== `${ui.user}:${conv.id}`;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    const items = [];
    let previous = null;
    for (const item of conv.items) {
      items.push(messageNode(item, previous, conv));
      previous = item;
    }
    if (!items.length) {
      items.push(el("div", { className: "empty" }, conv.kind === "dm"
        ? `This is your conversation with ${s.bot.name}. Say what you need to buy, e.g. "I need a box of pens from Staples for $25".`
        : `This is the start of #${conv.name}.`));
    }
    list.replaceChildren(...items);
    list.dataset.conv = `${ui.user}:${conv.id}`;
    if (switched || atBottom) list.scrollTop = list.scrollHeight;
    const last = conv.items[conv.items.length - 1];
    if (last) ui.seen[`${ui.user}:${conv.id}`] = last.ts;
  }

  function messageNode(item, previous, conv) {
    const s = ui.state;
    const ephemeral = item.kind === "ephemeral";
    const continued = previous && !ephemeral && previous.kind !== "ephemeral" && previous.user === item.user &&
      parseFloat(item.ts) - parseFloat(previous.ts) < 300;
    const isBot = item.user === s.bot.id || item.bot;
    const name = isBot ? s.bot.name : personName(item.user) || item.user || "someone";
    const where = { surface: "message", channel: conv.id, ts: item.ts };
    const hasBlocks = item.blocks && item.blocks.length && !item.blocks.every((b) => b.type === "rich_text");
    const content = hasBlocks ? blocks(item.blocks, where) : mrkdwn(item.text);
    const body = el("div", { className: "msg-body" });
    if (ephemeral) body.append(el("span", { className: "only-you" }, "Only visible to you"));
    if (!continued || ephemeral) {
      body.append(el("div", { className: "msg-head" },
        el("span", { className: "author" }, name),
        isBot ? el("span", { className: "badge" }, "APP") : null,
        el("time", { className: "time", datetime: new Date(parseFloat(item.ts) * 1000).toISOString() }, timeOf(item.ts))));
    }
    if (item.thread_ts) body.append(el("div", { className: "thread-note" }, "replied in a thread"));
    body.append(content);
    if (item.edited) {
      // Right after the last text, as Slack shows it.
      const texts = content.classList.contains("text") ? [content] : [...content.querySelectorAll(".text")];
      const last = texts[texts.length - 1] || body;
      last.append(" ", el("span", { className: "edited" }, "(edited)"));
    }
    return el("div", {
      className: "msg" + (continued && !ephemeral ? " cont" : "") + (ephemeral ? " ephemeral" : ""),
      "data-testid": ephemeral ? "ephemeral" : "message",
      "data-ts": item.ts,
      "data-author": item.user || "",
    }, avatarFor(isBot ? s.bot.id : item.user), body);
  }

  function drawHome() {
    const s = ui.state;
    header(s.bot.name, "", appTabs());
    $("messages").hidden = true;
    $("composer-form").hidden = true;
    const home = $("home");
    home.hidden = false;
    if (!s.home) {
      home.replaceChildren(el("div", { className: "empty" }, s.app.connected
        ? `Waiting for ${s.bot.name} to publish its Home tab…`
        : `No app is connected, so there is no Home tab.`));
      return;
    }
    home.replaceChildren(blocks(s.home.blocks, { surface: "view", view: s.home }));
  }

  function drawModal() {
    const root = $("modal-root");
    const view = ui.state.modal;
    const key = view ? `${ui.user}:${view.id}:${view.hash}:${JSON.stringify(view.errors || {})}` : "";
    if (key === ui.modalKey) return;
    ui.modalKey = key;
    if (!view) {
      root.hidden = true;
      root.replaceChildren();
      return;
    }
    const where = { surface: "view", view };
    const titleId = nextId("modal-title");
    const close = () => post("close", { view_id: view.id });
    const body = el("div", { className: "modal-body" }, [...blocks(view.blocks, where).childNodes]);
    const leftover = Object.entries(view.errors || {}).filter(([blockId]) =>
      !(view.blocks || []).some((b) => b.block_id === blockId && b.type === "input"));
    for (const [, message] of leftover) body.prepend(el("div", { className: "modal-error", role: "alert" }, decode(message)));
    const submit = view.submit
      ? el("button", { type: "button", className: "btn primary", "data-testid": "modal-submit" }, plain(view.submit))
      : null;
    const dialog = el("div", { className: "modal", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId,
      "data-testid": "modal", "data-view-id": view.id },
    el("header", {},
      el("span", { className: "app-icon", "aria-hidden": "true" }, "mb"),
      el("h2", { id: titleId }, plain(view.title)),
      el("button", { type: "button", className: "x", "aria-label": "Close", onclick: close }, "×")),
    body,
    el("footer", {},
      el("button", { type: "button", className: "btn", "data-testid": "modal-close", onclick: close },
        view.close ? plain(view.close) : view.submit ? "Cancel" : "Close"),
      submit));
    if (submit) {
      submit.addEventListener("click", async () => {
        submit.disabled = true;
        try {
          await post("submit", { view_id: view.id, values: inputValues(dialog) });
        } finally {
          submit.disabled = false;
        }
      });
    }
    dialog.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
    });
    root.replaceChildren(dialog);
    root.hidden = false;
    const first = dialog.querySelector(".input-block.invalid .control, .modal-body input, .modal-body textarea, .modal-body select");
    if (first) first.focus();
  }

  // -- what the person does ---------------------------------------------------------------------

  function go(where) {
    ui.where = where;
    saveLocation();
    if (where === "home" && (!ui.state || ui.state.app.connected)) post("home", {});
    if (ui.state) draw();
    if (where !== "home") $("composer").focus();
  }

  async function send() {
    const box = $("composer");
    const text = box.value;
    if (!text.trim() || !ui.state) return;
    const conv = conversation();
    box.value = "";
    const answer = await post("message", { channel: conv.id, text });
    if (!answer.ok && answer.status === 400) box.value = text; // refused before it was sent: let them fix it
  }

  function start() {
    $("composer").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send();
      }
    });
    $("composer-form").addEventListener("submit", (event) => {
      event.preventDefault();
      send();
    });
    $("nav-dm").addEventListener("click", () => go("dm"));
    $("nav-home").addEventListener("click", () => go("home"));
    $("error-close").addEventListener("click", hideError);
    $("user-switcher").addEventListener("change", (event) => {
      ui.user = event.target.value;
      ui.lastJson = "";
      ui.modalKey = "";
      hideError();
      saveLocation();
      if (ui.where === "home" && ui.state && ui.state.app.connected) post("home", {});
      poll();
    });
    if (ui.where === "home" && ui.user) post("home", {});
    poll();
  }

  start();
})();
