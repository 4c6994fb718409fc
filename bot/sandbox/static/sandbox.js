// The sandbox page: a Discord-like channel driven by the real bot through the sandbox's API.
// Every piece of text is put into the page with textContent / createTextNode, never as HTML:
// term files, notes and names are written by people, and the page must show them, not run them.
"use strict";

(() => {
  const POLL_RETRY_MS = 2000;
  const AUTOCOMPLETE_DELAY_MS = 120;
  const state = {
    info: null,
    persona: "student",
    version: -1,
    rendered: new Map(), // message id -> {json, node}
    dismissed: new Set(),
    popup: { kind: null, items: [], index: 0, meta: null },
    autocompleteSeq: 0,
    autocompleteTimer: null,
    sending: false,
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
    const response = await fetch(path, options);
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    if (!response.ok) {
      const message = (data && data.error) || `The sandbox answered ${response.status}.`;
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // ---------------------------------------------------------------------------------
  // Discord markdown, minimally: code blocks, inline code, bold, italics, underline,
  // strike-through, spoilers, escapes, headings, lists, quotes, links, mentions, times.
  // ---------------------------------------------------------------------------------
  const ESCAPABLE = /[\\`*_~|<>#\-[\]()!:.+={}@&"'/^$]/;

  function renderMarkdown(text, parent) {
    const source = String(text || "");
    const fence = /```(?:([A-Za-z0-9_+-]+)?\n)?([\s\S]*?)```/g;
    let last = 0;
    let match;
    while ((match = fence.exec(source)) !== null) {
      renderBlocks(source.slice(last, match.index), parent);
      const pre = el("pre");
      pre.appendChild(el("code", null, match[2].replace(/\n$/, "")));
      parent.appendChild(pre);
      last = fence.lastIndex;
    }
    renderBlocks(source.slice(last), parent);
    return parent;
  }

  function renderBlocks(text, parent) {
    if (!text) return;
    const lines = text.split("\n");
    // A fenced block's surrounding newlines belong to the block, as in Discord.
    if (lines.length > 1 && lines[0] === "" && parent.lastChild && parent.lastChild.nodeName === "PRE") lines.shift();
    let list = null;
    let needBreak = false;
    lines.forEach((line) => {
      const item = /^\s*[-*]\s+(.*)$/.exec(line);
      if (item) {
        if (!list) { list = el("ul"); parent.appendChild(list); }
        renderInline(item[1], list.appendChild(el("li")));
        needBreak = false;
        return;
      }
      list = null;
      const heading = /^(#{1,3})\s+(.*)$/.exec(line);
      const subtext = /^-#\s+(.*)$/.exec(line);
      const quote = /^>\s?(.*)$/.exec(line);
      if (heading) {
        renderInline(heading[2], parent.appendChild(el("h" + heading[1].length)));
        needBreak = false;
      } else if (subtext) {
        renderInline(subtext[1], parent.appendChild(el("div", "subtext")));
        needBreak = false;
      } else if (quote) {
        renderInline(quote[1], parent.appendChild(el("blockquote")));
        needBreak = false;
      } else {
        if (needBreak) parent.appendChild(el("br"));
        renderInline(line, parent);
        needBreak = true;
      }
    });
  }

  function findClose(text, delimiter, from) {
    for (let i = from; i <= text.length - delimiter.length; i += 1) {
      if (text[i] === "\\") { i += 1; continue; }
      if (text.startsWith(delimiter, i)) return i;
    }
    return -1;
  }

  const INLINE_STYLES = [
    ["**", "strong"], ["__", "u"], ["~~", "s"], ["||", "span.spoiler"], ["*", "em"], ["_", "em"],
  ];

  function renderInline(text, parent) {
    let buffer = "";
    const flush = () => {
      if (buffer) { parent.appendChild(document.createTextNode(buffer)); buffer = ""; }
    };
    let i = 0;
    outer: while (i < text.length) {
      const ch = text[i];
      if (ch === "\\" && i + 1 < text.length && ESCAPABLE.test(text[i + 1])) {
        buffer += text[i + 1];
        i += 2;
        continue;
      }
      if (ch === "`") {
        const ticks = /^`+/.exec(text.slice(i))[0];
        const end = text.indexOf(ticks, i + ticks.length);
        if (end > i) {
          flush();
          parent.appendChild(el("code", null, text.slice(i + ticks.length, end).trim() || " "));
          i = end + ticks.length;
          continue;
        }
      }
      if (ch === "<") {
        const token = /^<(@!?|@&|#)(\d+)>|^<t:(-?\d+)(?::([tTdDfFR]))?>|^<a?:(\w+):\d+>/.exec(text.slice(i));
        if (token) {
          flush();
          parent.appendChild(renderToken(token));
          i += token[0].length;
          continue;
        }
      }
      if (ch === "[") {
        const link = /^\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/.exec(text.slice(i));
        if (link) {
          flush();
          parent.appendChild(makeLink(link[2], link[1]));
          i += link[0].length;
          continue;
        }
      }
      if (ch === "h") {
        const url = /^https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/.exec(text.slice(i));
        if (url && !/\w/.test(text[i - 1] || "")) {
          flush();
          parent.appendChild(makeLink(url[0], url[0]));
          i += url[0].length;
          continue;
        }
      }
      for (const [delimiter, tag] of INLINE_STYLES) {
        if (!text.startsWith(delimiter, i)) continue;
        if (delimiter === "_" && /\w/.test(text[i - 1] || "")) break; // snake_case stays
        const inner = i + delimiter.length;
        if (text[inner] === undefined || /\s/.test(text[inner])) continue;
        const end = findClose(text, delimiter, inner + 1);
        if (end < 0) continue;
        if (delimiter === "_" && /\w/.test(text[end + 1] || "")) continue;
        flush();
        const [name, cls] = tag.split(".");
        const node = el(name, cls);
        if (cls === "spoiler") node.addEventListener("click", () => node.classList.add("revealed"));
        renderInline(text.slice(inner, end), node);
        parent.appendChild(node);
        i = end + delimiter.length;
        continue outer;
      }
      buffer += ch;
      i += 1;
    }
    flush();
  }

  function makeLink(href, label) {
    const a = el("a", null, label);
    if (/^https?:\/\//.test(href)) {
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    }
    return a;
  }

  function renderToken(token) {
    const info = state.info || { members: {}, roles: {}, channels: {} };
    if (token[1]) {
      const id = token[2];
      if (token[1] === "@&") return el("span", "mention", "@" + (info.roles[id] || "unknown-role"));
      if (token[1] === "#") return el("span", "mention", "#" + (info.channels[id] || "unknown"));
      return el("span", "mention", "@" + (info.members[id] || "unknown-user"));
    }
    if (token[3]) {
      const when = new Date(Number(token[3]) * 1000);
      const node = el("span", "timestamp", formatTimestamp(when, token[4] || "f"));
      node.title = when.toLocaleString();
      return node;
    }
    return document.createTextNode(":" + token[5] + ":");
  }

  function formatTimestamp(when, style) {
    const options = {
      t: { timeStyle: "short" }, T: { timeStyle: "medium" }, d: { dateStyle: "short" },
      D: { dateStyle: "long" }, f: { dateStyle: "long", timeStyle: "short" },
      F: { dateStyle: "full", timeStyle: "short" },
    };
    if (style !== "R") return when.toLocaleString(undefined, options[style] || options.f);
    const seconds = Math.round((when.getTime() - Date.now()) / 1000);
    const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
    const [unit, size] = units.find(([, s]) => Math.abs(seconds) >= s) || ["second", 1];
    return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }).format(Math.round(seconds / size), unit);
  }

  // ---------------------------------------------------------------------------------
  // Messages
  // ---------------------------------------------------------------------------------
  function initials(name) {
    return (String(name || "?").trim()[0] || "?").toUpperCase();
  }

  function personaClass(userId) {
    if (!state.info) return "";
    const persona = state.info.personas.find((p) => p.id === userId);
    return persona ? persona.key : "";
  }

  function formatTime(iso) {
    const when = new Date(iso);
    if (Number.isNaN(when.getTime())) return "";
    const time = when.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
    const today = new Date();
    return when.toDateString() === today.toDateString() ? `Today at ${time}` : `${when.toLocaleDateString()} ${time}`;
  }

  function renderMessage(message) {
    const article = el("article", "message");
    article.dataset.messageId = message.id;
    article.dataset.kind = message.kind;
    if (message.ephemeral) article.classList.add("ephemeral");
    if (message.invoked_by) {
      article.classList.add("has-reply");
      const line = el("div", "reply-line");
      line.appendChild(el("span", "avatar tiny " + personaClass(message.invoked_by.user_id), initials(message.invoked_by.name)));
      line.appendChild(el("span", "reply-name", message.invoked_by.name));
      line.appendChild(document.createTextNode(` ${message.invoked_by.action || "used"} `));
      const command = el("span", "reply-command", message.invoked_by.command);
      command.title = message.invoked_by.full || message.invoked_by.command;
      line.appendChild(command);
      article.appendChild(line);
    }
    const system = message.kind === "system";
    article.appendChild(el("div", "avatar " + (system ? "system" : "bot"), system ? "⚙" : initials(message.author.name)));
    const body = el("div", "message-body");
    const meta = el("div", "meta");
    meta.appendChild(el("span", "author", message.author.name));
    meta.appendChild(el("span", "tag" + (system ? " system" : ""), system ? "SYSTEM" : "APP"));
    const time = el("time", null, formatTime(message.timestamp));
    time.dateTime = message.timestamp || "";
    meta.appendChild(time);
    body.appendChild(meta);

    if (message.loading) {
      const thinking = el("div", "content thinking", `${message.author.name} is thinking`);
      thinking.appendChild(el("span", "dots"));
      body.appendChild(thinking);
    } else if (message.content) {
      const content = el("div", "content md" + (message.kind === "failed" ? " failed" : ""));
      renderMarkdown(message.content, content);
      if (message.edited) content.appendChild(el("span", "edited", "(edited)"));
      body.appendChild(content);
    }
    (message.embeds || []).forEach((embed) => body.appendChild(renderEmbed(embed)));
    if ((message.components || []).length) body.appendChild(renderComponents(message.components, message));
    if (message.ephemeral) {
      const note = el("div", "ephemeral-note");
      note.appendChild(el("span", "eye", "👁"));
      note.appendChild(el("span", null, "Only you can see this"));
      note.appendChild(el("span", null, "•"));
      const dismiss = el("button", null, "Dismiss message");
      dismiss.type = "button";
      dismiss.addEventListener("click", () => {
        state.dismissed.add(message.id);
        article.remove();
        state.rendered.delete(message.id);
      });
      note.appendChild(dismiss);
      body.appendChild(note);
    }
    article.appendChild(body);
    return article;
  }

  function colourOf(value) {
    if (typeof value !== "number") return null;
    return "#" + value.toString(16).padStart(6, "0");
  }

  function renderEmbed(embed) {
    const box = el("div", "embed");
    const colour = colourOf(embed.color);
    if (colour) box.style.borderLeftColor = colour;
    if (embed.author && embed.author.name) box.appendChild(el("div", "embed-author", embed.author.name));
    if (embed.title) {
      const title = el("div", "embed-title md");
      if (embed.url && /^https?:\/\//.test(embed.url)) title.appendChild(makeLink(embed.url, embed.title));
      else renderInline(embed.title, title);
      box.appendChild(title);
    }
    if (embed.description) box.appendChild(renderMarkdown(embed.description, el("div", "embed-description md")));
    const fields = embed.fields || [];
    if (fields.length) {
      const grid = el("div", "embed-fields");
      // Discord puts up to three consecutive inline fields on one line.
      let run = [];
      const closeRun = () => {
        run.forEach((node) => node.classList.add("inline-" + run.length));
        run = [];
      };
      fields.forEach((field) => {
        const node = el("div", "embed-field");
        renderInline(field.name || "", node.appendChild(el("div", "embed-field-name md")));
        node.appendChild(renderMarkdown(field.value || "", el("div", "embed-field-value md")));
        if (field.inline) {
          run.push(node);
          if (run.length === 3) closeRun();
        } else {
          closeRun();
        }
        grid.appendChild(node);
      });
      closeRun();
      box.appendChild(grid);
    }
    const footerText = embed.footer && embed.footer.text;
    if (footerText || embed.timestamp) {
      const footer = el("div", "embed-footer");
      if (footerText) footer.appendChild(el("span", null, footerText));
      if (footerText && embed.timestamp) footer.appendChild(el("span", null, "•"));
      if (embed.timestamp) footer.appendChild(el("span", null, formatTime(embed.timestamp)));
      box.appendChild(footer);
    }
    return box;
  }

  const BUTTON_STYLES = { 1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link", 6: "primary" };

  function renderComponents(components, message) {
    const box = el("div", "components");
    components.forEach((component) => {
      if (component.type === 1) {
        const row = el("div", "action-row");
        (component.components || []).forEach((child) => row.appendChild(renderComponent(child, message)));
        box.appendChild(row);
      } else if (component.type === 10) {
        box.appendChild(renderMarkdown(component.content || "", el("div", "content md")));
      } else if (component.type === 17 || component.type === 9) {
        box.appendChild(renderComponents(component.components || [], message));
      } else {
        box.appendChild(renderComponent(component, message));
      }
    });
    return box;
  }

  function renderComponent(component, message) {
    if (component.type === 2) {
      const style = BUTTON_STYLES[component.style] || "secondary";
      if (style === "link") {
        const link = makeLink(component.url || "", component.label || component.url || "link");
        link.className = "btn link";
        link.appendChild(document.createTextNode(" ↗"));
        return link;
      }
      const button = el("button", "btn " + style);
      button.type = "button";
      if (component.emoji && component.emoji.name) button.appendChild(el("span", "emoji", component.emoji.name));
      if (component.label) button.appendChild(el("span", "label", component.label));
      button.dataset.customId = component.custom_id || "";
      button.disabled = Boolean(component.disabled);
      if (!component.disabled) {
        button.addEventListener("click", () => click(message, component.custom_id, button));
      }
      return button;
    }
    if (component.type === 3) {
      const select = el("select", "select");
      select.disabled = Boolean(component.disabled);
      select.appendChild(el("option", null, component.placeholder || "Make a selection"));
      (component.options || []).forEach((option) => {
        const node = el("option", null, option.label);
        node.value = option.value;
        select.appendChild(node);
      });
      select.addEventListener("change", () => {
        if (select.selectedIndex > 0) click(message, component.custom_id, select, [select.value]);
      });
      return select;
    }
    return el("span", "unsupported", "");
  }

  async function click(message, customId, control, values) {
    if (control.classList.contains("busy")) return;
    control.classList.add("busy");
    showError("");
    try {
      await api("/api/click", { message_id: message.id, custom_id: customId, as: state.persona, values });
    } catch (error) {
      showError(error.message);
    } finally {
      control.classList.remove("busy");
    }
  }

  function nearBottom(list) {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  }

  function applyMessages(messages, forceScroll) {
    const list = $("messages");
    const stick = forceScroll || nearBottom(list);
    const seen = new Set();
    let previous = list.querySelector(".channel-start");
    messages.forEach((message) => {
      if (state.dismissed.has(message.id)) return;
      seen.add(message.id);
      const json = JSON.stringify(message);
      let entry = state.rendered.get(message.id);
      if (!entry || entry.json !== json) {
        const node = renderMessage(message);
        if (entry) entry.node.replaceWith(node);
        entry = { json, node };
        state.rendered.set(message.id, entry);
      }
      if (previous.nextSibling !== entry.node) previous.after(entry.node);
      previous = entry.node;
    });
    for (const [id, entry] of state.rendered) {
      if (!seen.has(id)) { entry.node.remove(); state.rendered.delete(id); }
    }
    if (stick) list.scrollTop = list.scrollHeight;
  }

  async function poll() {
    let first = true;
    for (;;) {
      try {
        const data = await api(`/api/messages?version=${state.version}`);
        $("banner").hidden = true;
        state.version = data.version;
        applyMessages(data.messages, first);
        first = false;
      } catch (error) {
        const banner = $("banner");
        banner.textContent = "Lost the connection to the sandbox. Is glossary-bot sandbox still running? Retrying…";
        banner.hidden = false;
        await new Promise((resolve) => setTimeout(resolve, POLL_RETRY_MS));
      }
    }
  }

  // ---------------------------------------------------------------------------------
  // The composer: command picker, option autocomplete, sending
  // ---------------------------------------------------------------------------------
  function showError(message) {
    const box = $("composer-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function closePopup() {
    state.popup = { kind: null, items: [], index: 0, meta: null };
    $("popup").hidden = true;
    $("popup").replaceChildren();
  }

  function openPopup(kind, header, items, meta) {
    const popup = $("popup");
    state.popup = { kind, items, index: 0, meta };
    popup.replaceChildren();
    if (!items.length) { closePopup(); return; }
    const head = el("div", "popup-header");
    header.forEach((part) => head.appendChild(typeof part === "string" ? document.createTextNode(part) : part));
    popup.appendChild(head);
    items.forEach((item, index) => {
      const row = el("div", "popup-item" + (index === 0 ? " selected" : ""));
      row.setAttribute("role", "option");
      row.dataset.value = item.value;
      row.appendChild(el("span", "popup-name", item.label));
      row.appendChild(el("span", "popup-description", item.description || ""));
      if (item.app) row.appendChild(el("span", "popup-app", item.app));
      row.addEventListener("mousedown", (event) => { event.preventDefault(); choose(index); });
      row.addEventListener("mousemove", () => highlight(index));
      popup.appendChild(row);
    });
    popup.hidden = false;
  }

  function highlight(index) {
    const rows = $("popup").querySelectorAll(".popup-item");
    if (!rows.length) return;
    state.popup.index = (index + rows.length) % rows.length;
    rows.forEach((row, i) => row.classList.toggle("selected", i === state.popup.index));
    rows[state.popup.index].scrollIntoView({ block: "nearest" });
  }

  function choose(index) {
    const item = state.popup.items[index];
    if (!item) return;
    const input = $("composer");
    if (state.popup.kind === "command") {
      input.value = "/" + item.value + " ";
    } else {
      const { start, end } = state.popup.meta;
      const text = input.value;
      const after = text.slice(end).replace(/^\s+/, "");
      input.value = text.slice(0, start) + item.value + " " + after;
    }
    closePopup();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    updateHint();
  }

  function commandFor(text) {
    if (!state.info || !text.startsWith("/")) return null;
    const words = text.slice(1).trim().toLowerCase().split(/\s+/);
    let best = null;
    state.info.commands.forEach((command) => {
      const path = command.name.split(" ");
      if (path.every((part, i) => words[i] === part) && (!best || path.length > best.name.split(" ").length)) best = command;
    });
    return best;
  }

  function updateHint(focused) {
    const hint = $("hint");
    hint.replaceChildren();
    const text = $("composer").value;
    const command = commandFor(text);
    if (!command) {
      if (!text) hint.textContent = "Type / to see the bot's commands. Enter sends, Tab picks a suggestion.";
      return;
    }
    hint.appendChild(el("span", null, "/" + command.name + "  "));
    command.options.forEach((option) => {
      const chip = el("span", "opt" + (option.required ? " required" : "") + (option.name === focused ? " focused" : ""), option.name);
      chip.title = option.description;
      hint.appendChild(chip);
    });
    const current = command.options.find((o) => o.name === focused);
    if (current) hint.appendChild(el("span", null, " " + current.description));
    else if (command.options.length > 1) hint.appendChild(el("span", null, " Name later options like private:true"));
  }

  function onInput() {
    showError("");
    const text = $("composer").value;
    clearTimeout(state.autocompleteTimer);
    updateHint();
    if (!text.startsWith("/") || !state.info) { closePopup(); return; }
    const typed = text.slice(1);
    const commandWords = typed.split(/\s+/);
    const group = state.info.commands.filter((c) => c.name.startsWith(typed.toLowerCase()));
    // Still typing the command name (or a subcommand): the client-side command picker.
    if (!commandFor(text) || (!/\s$/.test(text) && commandWords.length <= commandFor(text).name.split(" ").length)) {
      const items = group.map((c) => ({ label: "/" + c.name, value: c.name, description: c.description, app: state.info.bot.name }));
      openPopup("command", ["Commands matching ", el("code", null, "/" + typed)], items, null);
      return;
    }
    closePopup(); // the command picker no longer applies; suggestions come from the bot
    state.autocompleteTimer = setTimeout(() => autocomplete(text), AUTOCOMPLETE_DELAY_MS);
  }

  async function autocomplete(text) {
    const seq = ++state.autocompleteSeq;
    let data;
    try {
      data = await api("/api/autocomplete", { text, as: state.persona });
    } catch (_) {
      return;
    }
    if (seq !== state.autocompleteSeq || $("composer").value !== text) return; // stale
    updateHint(data.option);
    if (!data.option || !data.choices.length) { closePopup(); return; }
    const items = data.choices.map((c) => ({ label: c.name, value: c.value, description: c.name !== c.value ? c.value : "" }));
    openPopup("option", ["Options matching ", el("code", null, data.option)], items, data);
  }

  async function send() {
    const input = $("composer");
    const text = input.value.trim();
    if (!text || state.sending) return;
    if (!text.startsWith("/")) {
      showError("This is a sandbox for the bot's slash commands: start with / (try /define backend).");
      return;
    }
    state.sending = true;
    closePopup();
    showError("");
    try {
      await api("/api/command", { text, as: state.persona });
      input.value = "";
      updateHint();
      const list = $("messages");
      list.scrollTop = list.scrollHeight;
    } catch (error) {
      showError(error.message);
    } finally {
      state.sending = false;
    }
  }

  function onKeyDown(event) {
    const open = !$("popup").hidden && state.popup.items.length;
    if (open && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      highlight(state.popup.index + (event.key === "ArrowDown" ? 1 : -1));
    } else if (open && (event.key === "Tab" || event.key === "Enter")) {
      event.preventDefault();
      choose(state.popup.index);
    } else if (event.key === "Escape") {
      closePopup();
    } else if (event.key === "Enter") {
      event.preventDefault();
      send();
    }
  }

  // ---------------------------------------------------------------------------------
  // Who is typing
  // ---------------------------------------------------------------------------------
  function setPersona(key) {
    state.persona = key;
    document.querySelectorAll(".persona").forEach((button) => {
      button.setAttribute("aria-checked", String(button.dataset.persona === key));
    });
    const persona = state.info && state.info.personas.find((p) => p.key === key);
    const name = persona ? persona.name : key;
    $("user-name").textContent = name;
    $("user-status").textContent = persona && persona.moderator ? "Moderator · Manage Server" : "Student";
    const avatar = $("user-avatar");
    avatar.textContent = initials(name);
    avatar.className = "avatar small " + key;
    try { sessionStorage.setItem("sandbox-persona", key); } catch (_) { /* private mode */ }
  }

  async function start() {
    for (let attempt = 0; !state.info; attempt += 1) {
      try {
        state.info = await api("/api/state");
      } catch (_) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 500 * (attempt + 1))));
      }
    }
    $("guild-name").textContent = state.info.guild;
    $("channel-name").textContent = state.info.channel.name;
    $("sidebar-channel").textContent = state.info.channel.name;
    let saved = null;
    try { saved = sessionStorage.getItem("sandbox-persona"); } catch (_) { saved = null; }
    setPersona(saved === "moderator" ? "moderator" : "student");
    document.querySelectorAll(".persona").forEach((button) => {
      button.addEventListener("click", () => setPersona(button.dataset.persona));
    });
    const input = $("composer");
    input.addEventListener("input", onInput);
    input.addEventListener("keydown", onKeyDown);
    input.addEventListener("blur", () => setTimeout(closePopup, 150));
    $("composer-form").addEventListener("submit", (event) => { event.preventDefault(); send(); });
    document.body.dataset.ready = "true";
    updateHint();
    input.focus();
    poll();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
