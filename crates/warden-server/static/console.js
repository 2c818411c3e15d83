// Warden console: progressive enhancement only. Every page works without
// this script; it adds keyboard shortcuts, live countdowns, a confirmation
// dialog, and keeps unsent text in this tab's session storage so that a
// lost session or a reload does not lose it.
"use strict";

(function () {
  const page = document.body.dataset.page || "";
  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  // ---------------------------------------------------------------- helpers

  function announce(text) {
    const region = $("#announcer");
    if (region) {
      region.textContent = "";
      window.setTimeout(() => { region.textContent = text; }, 50);
    }
  }

  function editing(element) {
    if (!element) return false;
    const tag = element.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT") {
      const type = (element.type || "text").toLowerCase();
      return !["checkbox", "radio", "button", "submit", "reset"].includes(type);
    }
    return element.isContentEditable;
  }

  function openDialog() {
    return $("dialog[open]");
  }

  function focusField(id) {
    const field = document.getElementById(id);
    if (!field) return false;
    for (let parent = field.closest("details"); parent; parent = parent.parentElement && parent.parentElement.closest("details")) {
      parent.open = true;
    }
    field.scrollIntoView({ block: "center", behavior: "instant" });
    field.focus();
    return true;
  }

  function submitWith(buttonSelector) {
    const button = $(buttonSelector);
    if (!button || button.disabled) return false;
    const form = button.form;
    if (!form) return false;
    if (button.dataset.confirm) {
      confirmThen(button.dataset.confirm, () => form.requestSubmit(button));
    } else {
      form.requestSubmit(button);
    }
    return true;
  }

  // ---------------------------------------------------------- confirmation

  function confirmThen(text, action) {
    const dialog = $("#confirm");
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(text)) action();
      return;
    }
    $("[data-confirm-text]", dialog).textContent = text;
    const yes = $("[data-confirm-yes]", dialog);
    const no = $("[data-confirm-no]", dialog);
    const close = () => {
      yes.onclick = null;
      no.onclick = null;
      dialog.close();
    };
    yes.onclick = () => { close(); action(); };
    no.onclick = close;
    dialog.showModal();
    yes.focus();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-confirm]");
    if (!button || button.dataset.confirmed === "1") return;
    event.preventDefault();
    confirmThen(button.dataset.confirm, () => {
      if (button.form) button.form.requestSubmit(button);
    });
  });

  // -------------------------------------------------------------- items

  let current = -1;

  function items() {
    return $$("[data-item]").filter((item) => item.offsetParent !== null);
  }

  function select(index) {
    const list = items();
    if (list.length === 0) return;
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach((item) => item.classList.remove("selected"));
    const item = list[current];
    item.classList.add("selected");
    if (!item.hasAttribute("tabindex")) item.setAttribute("tabindex", "-1");
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest", behavior: "instant" });
  }

  function selectedItem() {
    const list = items();
    const active = document.activeElement && document.activeElement.closest("[data-item]");
    if (active) return active;
    return current >= 0 ? list[current] : null;
  }

  document.addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, select, textarea, label, form")) return;
    window.location.href = row.dataset.href;
  });

  // ------------------------------------------------------------- media

  function toggleMedia() {
    const item = selectedItem();
    let figure = item && item.matches("[data-media]") ? item : null;
    if (!figure) figure = $("[data-media]");
    if (!figure) return false;
    const toggle = $(".reveal-toggle", figure);
    toggle.checked = !toggle.checked;
    toggle.dispatchEvent(new Event("change", { bubbles: true }));
    announce(toggle.checked ? "Media shown." : "Media blurred again.");
    figure.scrollIntoView({ block: "nearest", behavior: "instant" });
    return true;
  }

  // ------------------------------------------------------------ decision

  function decide(violation) {
    const radio = document.getElementById(violation ? "f-violation-yes" : "f-violation-no");
    if (!radio) return false;
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    if (violation) {
      const remove = document.getElementById("f-a_remove_content");
      if (remove) remove.checked = true;
    }
    focusField("f-r_what_happened");
    announce(violation ? "Violation, remove content. Write the rationale." : "No violation. Write the rationale.");
    return true;
  }

  document.addEventListener("change", (event) => {
    if (event.target.id === "f-violation-no" && event.target.checked) {
      $$("[data-action]").forEach((box) => { box.checked = false; });
    }
    if (event.target.matches("[data-action]") && event.target.checked) {
      const yes = document.getElementById("f-violation-yes");
      if (yes) yes.checked = true;
    }
  });

  const copyNote = $("[data-copy-note]");
  if (copyNote) {
    copyNote.hidden = false;
    copyNote.addEventListener("click", () => {
      const latest = $("[data-latest-note]");
      if (!latest) return;
      const fields = {
        "What happened": "f-r_what_happened",
        "Evidence": "f-r_evidence",
        "Policy": "f-r_policy",
        "Action": "f-r_action",
        "Next steps": "f-r_next_steps",
      };
      $$("[data-section]", latest).forEach((section) => {
        const field = document.getElementById(fields[section.dataset.section]);
        if (field && field.value.trim() === "") {
          field.value = section.textContent;
          field.dispatchEvent(new Event("input", { bubbles: true }));
        }
      });
      announce("Filled in from the latest note where empty.");
    });
  }

  // ------------------------------------------------------------- keyboard

  let pendingG = false;

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented) return;
    const target = event.target;

    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && page === "case") {
      if (submitWith(event.shiftKey ? "#submit-next" : "#submit-decision")) event.preventDefault();
      return;
    }
    if (event.key === "Escape" && editing(target) && !openDialog()) {
      target.blur();
      const item = target.closest("[data-item]");
      if (item) item.focus({ preventScroll: true });
      return;
    }
    if (editing(target) || openDialog() || event.ctrlKey || event.metaKey || event.altKey) return;

    const key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "h") { window.location.href = "/console"; event.preventDefault(); }
      return;
    }
    let handled = true;
    switch (key) {
      case "?": {
        const sheet = $("#shortcuts");
        if (sheet && typeof sheet.showModal === "function") sheet.showModal();
        break;
      }
      case "g": pendingG = true; break;
      case "j": select(current + 1); break;
      case "k": select(current < 0 ? 0 : current - 1); break;
      case "Enter": {
        const item = selectedItem();
        if (item && item.dataset.href && target === item) window.location.href = item.dataset.href;
        else handled = false;
        break;
      }
      case "s": handled = page === "queue" && submitWith("#start-reviewing"); break;
      case "v": handled = toggleMedia(); break;
      case "n": handled = decide(false); break;
      case "r": handled = decide(true); break;
      case "e": handled = focusField("f-escalate_reason"); break;
      case "c": handled = focusField("f-n_what_happened"); break;
      case "h": handled = focusField("f-hold_reason"); break;
      case "m": handled = submitWith("button[data-key='m']"); break;
      case "l": handled = submitWith("button[data-key='l']"); break;
      case "q": {
        const queue = $("[data-nav='queue']");
        if (queue) window.location.href = queue.href; else handled = false;
        break;
      }
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  const shortcutsButton = $("[data-open='shortcuts']");
  if (shortcutsButton) {
    shortcutsButton.hidden = false;
    shortcutsButton.addEventListener("click", () => $("#shortcuts").showModal());
  }

  // ----------------------------------------------------------- countdowns

  function words(milliseconds, withSeconds) {
    let seconds = Math.floor(Math.abs(milliseconds) / 1000);
    const days = Math.floor(seconds / 86400);
    const hours = Math.floor(seconds / 3600) % 24;
    const minutes = Math.floor(seconds / 60) % 60;
    seconds %= 60;
    if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
    if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
    if (minutes > 0) return withSeconds && minutes < 10 ? `${minutes} min ${seconds} s` : `${minutes} min`;
    return `${seconds} s`;
  }

  let warned = false;

  function tick() {
    const now = Date.now();
    $$("time[data-countdown]").forEach((time) => {
      const due = Date.parse(time.getAttribute("datetime"));
      if (Number.isNaN(due)) return;
      const left = due - now;
      const lease = time.dataset.countdown === "lease";
      if (lease && left <= 0) {
        time.textContent = "expired";
        time.classList.add("urgent");
        return;
      }
      time.textContent = left >= 0 ? `in ${words(left, lease)}` : `${words(left, false)} overdue`;
      if (lease && left < 2 * 60 * 1000) {
        time.classList.add("urgent");
        if (!warned && page === "case") {
          warned = true;
          announce("Your lease ends in under two minutes. Press m to renew it.");
        }
      }
    });
  }

  if ($("time[data-countdown]")) {
    tick();
    window.setInterval(tick, 1000);
  }

  // ---------------------------------------------------------- unsent text

  const work = $("form[data-draft-key]");
  if (work && window.sessionStorage) {
    const key = work.dataset.draftKey;
    let saved = {};
    try { saved = JSON.parse(sessionStorage.getItem(key) || "{}"); } catch (_) { saved = {}; }
    const save = () => {
      const draft = {};
      $$("[data-draft]", work).forEach((field) => { if (field.value) draft[field.name] = field.value; });
      try { sessionStorage.setItem(key, JSON.stringify(draft)); } catch (_) { /* storage full: ignore */ }
    };
    let restored = 0;
    $$("[data-draft]", work).forEach((field) => {
      if (field.value.trim() === "" && saved[field.name]) {
        field.value = saved[field.name];
        restored += 1;
      }
    });
    if (restored > 0) announce("Restored text you had not sent yet.");
    save();
    work.addEventListener("input", save);
    work.addEventListener("submit", (event) => {
      const submitter = event.submitter;
      if (!submitter) return;
      const action = submitter.getAttribute("formaction") || "";
      if (action.endsWith("/decision") || action.endsWith("/release") || action.endsWith("/escalate")) {
        sessionStorage.removeItem(key);
      } else if (action.endsWith("/notes")) {
        $$("[name^='n_']", work).forEach((field) => { delete saved[field.name]; });
        const draft = JSON.parse(sessionStorage.getItem(key) || "{}");
        Object.keys(draft).filter((name) => name.startsWith("n_")).forEach((name) => delete draft[name]);
        sessionStorage.setItem(key, JSON.stringify(draft));
      }
    });
  }

  // --------------------------------------------------------------- misc

  // A page answering a form (renew, hold, note, reveal) sits at the form's
  // address; show the case's own, so that reloading reads the case again
  // rather than sending the form twice.
  const answered = window.location.pathname.match(/^(\/console\/cases\/\d+)\/(notes|renew|hold|reveal|decision|escalate|assign|release)$/);
  if (answered && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", answered[1]);
  }

  $$("[data-select-on-focus]").forEach((input) => {
    input.addEventListener("focus", () => input.select());
  });

  const summary = $("#error-summary");
  if (summary) summary.focus();
  // ------------------------------------------------------------ wellness

  // Visible media time: from a reveal while the page is in view (Page
  // Visibility API) until the media is blurred again or the page hidden,
  // reported to the server, which may suggest a break.
  (function wellness() {
    const page = window.location.pathname.match(/^\/console\/cases\/(\d+)/);
    const toggles = $$(".reveal-toggle");
    const csrf = $("input[name=csrf_token]");
    if (!page || !toggles.length || !csrf) return;
    let since = null;
    const shown = () => toggles.some((t) => t.checked);
    const inView = () => document.visibilityState === "visible";
    function suggestBreak() {
      if ($(".break-banner")) return;
      const banner = document.createElement("form");
      banner.method = "post";
      banner.action = "/console/wellness/break";
      banner.className = "break-banner";
      banner.setAttribute("role", "alert");
      const token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrf_token";
      token.value = csrf.value;
      const text = document.createElement("p");
      text.textContent = "You have looked at sensitive media for a while. Take a short break.";
      const button = document.createElement("button");
      button.type = "submit";
      button.className = "btn";
      button.textContent = "Take a break now";
      banner.append(token, text, button);
      ($("main") || document.body).prepend(banner);
    }
    function flush() {
      if (since === null) return;
      const body = new URLSearchParams({
        csrf_token: csrf.value,
        revealed_at: String(since),
        visible_ms: String(Math.max(0, Date.now() - since)),
      });
      since = null;
      fetch("/console/cases/" + page[1] + "/exposure", {
        method: "POST", body, credentials: "same-origin", keepalive: true,
      }).then((answer) => answer.text())
        .then((text) => { if (text === "break") suggestBreak(); })
        .catch(() => {});
    }
    function update() {
      if (shown() && inView()) {
        if (since === null) since = Date.now();
      } else {
        flush();
      }
    }
    toggles.forEach((t) => t.addEventListener("change", update));
    document.addEventListener("visibilitychange", update);
    window.addEventListener("pagehide", flush);
    window.setInterval(() => { if (since !== null) { flush(); update(); } }, 60000);
  })();
})();
