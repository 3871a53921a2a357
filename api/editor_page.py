"""The editor's web page: one self-contained HTML document (inline CSS and JavaScript).

It talks to the API with ``fetch()`` only: the token lives in ``sessionStorage`` (never in a
URL), reads send it as ``Authorization: Bearer``, saves send ``If-Match``. ``NONCE`` is
replaced per response; the page's CSP allows only scripts and styles carrying it.
"""

from __future__ import annotations

NONCE = "__CSP_NONCE__"

EDITOR_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Zarr content editor</title>
<style nonce="__CSP_NONCE__">
:root {
  --ink: #1d2430; --muted: #5b6576; --line: #d8dde6; --bg: #f6f7f9; --panel: #fff;
  --accent: #4a3fb5; --accent-ink: #fff; --ok: #17663a; --ok-bg: #e7f5ec;
  --bad: #9b1c1c; --bad-bg: #fdecec; --focus: #ffbf47;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); }
header { display: flex; align-items: center; gap: 1rem; padding: .6rem 1.2rem;
  background: var(--ink); color: #fff; }
header h1 { font-size: 1.05rem; margin: 0; font-weight: 600; letter-spacing: .01em; }
header .who { margin-left: auto; font-size: .9rem; opacity: .85; }
button { font: inherit; border: 1px solid var(--line); background: var(--panel); color: var(--ink);
  border-radius: 6px; padding: .35rem .8rem; cursor: pointer; }
button:hover { border-color: var(--accent); }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-ink); }
button:disabled { opacity: .55; cursor: default; }
header button { background: transparent; color: #fff; border-color: #fff6; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
input[type=password], input[type=text], textarea { font: inherit; width: 100%;
  border: 1px solid var(--line); border-radius: 6px; padding: .45rem .6rem; background: #fff; }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9rem;
  min-height: 18rem; resize: vertical; line-height: 1.45; }
label, .pane-title { display: block; font-weight: 600; font-size: 1rem; margin: .2rem 0 .3rem; }
.hint { color: var(--muted); font-size: .85rem; }
main { padding: 1rem 1.2rem; }
#signin { max-width: 28rem; margin: 3rem auto; background: var(--panel); padding: 1.4rem;
  border: 1px solid var(--line); border-radius: 10px; }
#signin h2 { margin-top: 0; }
#signin form { display: grid; gap: .6rem; }
#workspace { display: grid; grid-template-columns: 15rem 1fr; gap: 1.2rem; align-items: start; }
nav { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: .8rem; }
nav h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted);
  margin: .4rem 0; }
nav ul { list-style: none; margin: 0 0 .8rem; padding: 0; }
nav li button { width: 100%; text-align: left; border-color: transparent; padding: .3rem .5rem; }
nav li button[aria-current=true] { background: #ecebfa; border-color: var(--accent); }
.draft { font-size: .7rem; color: var(--muted); border: 1px solid var(--line); border-radius: 4px;
  padding: 0 .3rem; margin-left: .3rem; }
#editor { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 1rem 1.2rem; min-width: 0; }
#editor h2 { margin: 0 0 .2rem; font-size: 1.25rem; }
.meta { color: var(--muted); font-size: .85rem; margin-bottom: .8rem; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
#preview { border: 1px solid var(--line); border-radius: 6px; padding: .2rem 1rem; min-height: 18rem;
  overflow: auto; background: #fcfcfd; }
#preview img { max-width: 100%; }
#preview pre { background: #f1f3f6; padding: .6rem; overflow: auto; }
.toolbar { display: flex; gap: .6rem; align-items: center; margin: .9rem 0 .4rem; flex-wrap: wrap; }
.message { border-radius: 6px; padding: .55rem .8rem; margin: .6rem 0; }
.message.ok { background: var(--ok-bg); color: var(--ok); }
.message.bad { background: var(--bad-bg); color: var(--bad); }
.message:empty { display: none; }
#revisions { margin-top: 1rem; border-top: 1px solid var(--line); padding-top: .6rem; }
#revisions h3 { font-size: 1rem; margin: .2rem 0 .5rem; }
#revision-list { list-style: none; padding: 0; margin: 0; }
#revision-list li { display: flex; gap: .8rem; align-items: center; padding: .35rem 0;
  border-bottom: 1px dashed var(--line); }
#revision-list .when { color: var(--muted); font-size: .85rem; margin-left: auto; }
details { margin: .6rem 0; }
[hidden] { display: none !important; }
@media (max-width: 60rem) {
  #workspace, .columns { grid-template-columns: 1fr; }
}
</style>
</head>
<body>
<header>
  <h1>Zarr content editor</h1>
  <span class="who" id="who"></span>
  <button type="button" id="signout" hidden>Sign out</button>
</header>
<main>
  <section id="signin" aria-labelledby="signin-title">
    <h2 id="signin-title">Sign in</h2>
    <form id="signin-form" novalidate>
      <div>
        <label for="token">API token</label>
        <input type="password" id="token" name="token" autocomplete="off" required
               aria-describedby="token-hint">
        <p class="hint" id="token-hint">An editor or admin token (made with
          <code>tokens create</code>). It is kept in this browser tab only.</p>
      </div>
      <button type="submit" class="primary">Sign in</button>
      <p class="message bad" id="signin-error" role="alert"></p>
    </form>
  </section>

  <div id="workspace" hidden>
    <nav aria-label="Pages and sections">
      <h2 id="pages-title">Pages</h2>
      <ul id="page-list" aria-labelledby="pages-title"></ul>
      <h2 id="sections-title">Sections</h2>
      <ul id="section-list" aria-labelledby="sections-title"></ul>
    </nav>

    <section id="editor" aria-labelledby="section-heading">
      <p id="placeholder" class="hint">Choose a page, then a section to edit.</p>
      <div id="section-panel" hidden>
        <h2 id="section-heading" tabindex="-1"></h2>
        <p class="meta" id="section-meta"></p>
        <div id="title-field">
          <label for="title">Heading</label>
          <input type="text" id="title" autocomplete="off">
        </div>
        <div class="columns">
          <div>
            <label for="body">Markdown</label>
            <textarea id="body" spellcheck="true" aria-describedby="body-hint"></textarea>
            <p class="hint" id="body-hint">No <code>## </code> headings here: each heading is a
              section of its own. Ctrl+S saves.</p>
          </div>
          <div>
            <h3 class="pane-title" id="preview-title">Preview</h3>
            <div id="preview" role="region" aria-labelledby="preview-title"></div>
            <p class="hint" id="preview-state" aria-live="polite"></p>
          </div>
        </div>
        <div class="toolbar">
          <button type="button" class="primary" id="save">Save</button>
          <button type="button" id="reload">Reload</button>
          <button type="button" id="show-revisions" aria-expanded="false"
                  aria-controls="revisions">Revisions</button>
          <span class="hint" id="dirty-state"></span>
        </div>
        <div class="message ok" id="status" role="status"></div>
        <div class="message bad" id="error" role="alert" tabindex="-1"></div>
        <details id="your-version" hidden>
          <summary>Your unsaved text</summary>
          <label for="your-text">Copy what you need back into the editor</label>
          <textarea id="your-text" readonly></textarea>
        </details>
        <section id="revisions" hidden aria-labelledby="revisions-title">
          <h3 id="revisions-title">Revisions</h3>
          <ol id="revision-list" reversed></ol>
        </section>
      </div>
    </section>
  </div>
</main>
<script nonce="__CSP_NONCE__">
"use strict";
(() => {
  const KEY = "zarr-editor-token";
  const $ = (id) => document.getElementById(id);
  const state = { page: null, section: null, etag: null, saved: "", savedTitle: null,
                  timer: null, previewSeq: 0 };

  function token() { return sessionStorage.getItem(KEY); }

  async function api(path, { method = "GET", body, etag } = {}) {
    const headers = { "Accept": "application/json", "Authorization": "Bearer " + token() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (etag) headers["If-Match"] = etag;
    const response = await fetch(path, {
      method, headers, cache: "no-store", credentials: "omit",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (e) { data = null; }
    }
    if (response.status === 401) { signOut("Your token was refused; sign in again."); }
    return { status: response.status, ok: response.ok, etag: response.headers.get("ETag"), data };
  }

  function problemText(result) {
    const d = result.data || {};
    const fields = d.errors ? Object.values(d.errors).flat().join(" ") : "";
    return fields || d.detail || ("The server answered " + result.status + ".");
  }

  function say(text) { $("status").textContent = text; if (text) $("error").textContent = ""; }
  function fail(text, focus = true) {
    $("error").textContent = text;
    $("status").textContent = "";
    if (focus && text) $("error").focus();
  }

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props);
    for (const child of children) node.append(child);
    return node;
  }

  function when(iso) {
    try { return new Date(iso).toLocaleString(); } catch (e) { return iso; }
  }

  // --- signing in -------------------------------------------------------------------------
  function showSignIn(message) {
    $("workspace").hidden = true;
    $("signin").hidden = false;
    $("signout").hidden = true;
    $("who").textContent = "";
    $("signin-error").textContent = message || "";
    $("token").focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    state.section = null;
    showSignIn(message);
  }

  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) { $("signin-error").textContent = "Paste your API token first."; return; }
    sessionStorage.setItem(KEY, value);
    const result = await api("/pages?limit=200");
    if (!result.ok) {
      sessionStorage.removeItem(KEY);
      showSignIn(result.status === 401 ? "That token was not accepted." : problemText(result));
      return;
    }
    $("token").value = "";
    start(result.data.data);
  });

  $("signout").addEventListener("click", () => {
    if (confirmLeave()) signOut("Signed out.");
  });

  async function start(pages) {
    $("signin").hidden = true;
    $("workspace").hidden = false;
    $("signout").hidden = false;
    $("who").textContent = "Signed in";
    if (!pages) {
      const result = await api("/pages?limit=200");
      if (!result.ok) return;
      pages = result.data.data;
    }
    const list = $("page-list");
    list.replaceChildren();
    for (const page of pages) {
      const button = el("button", { type: "button", textContent: page.title || page.slug });
      button.dataset.slug = page.slug;
      if (page.status === "draft") button.append(el("span", { className: "draft",
        textContent: "draft" }));
      button.addEventListener("click", () => { if (confirmLeave()) openPage(page.slug); });
      list.append(el("li", {}, button));
    }
    const first = list.querySelector("button");
    if (first) first.focus();
  }

  // --- pages and sections -----------------------------------------------------------------
  function markCurrent(listId, attr, value) {
    for (const button of $(listId).querySelectorAll("button")) {
      button.setAttribute("aria-current", String(button.dataset[attr] === String(value)));
    }
  }

  async function openPage(slug) {
    const result = await api("/pages/" + encodeURIComponent(slug));
    if (!result.ok) { fail(problemText(result)); return; }
    state.page = result.data;
    markCurrent("page-list", "slug", slug);
    const list = $("section-list");
    list.replaceChildren();
    for (const section of result.data.sections) {
      const name = section.title === null ? "Introduction" : section.title;
      const button = el("button", { type: "button", textContent: name });
      button.dataset.id = section.id;
      if (section.status === "draft") button.append(el("span", { className: "draft",
        textContent: "draft" }));
      button.addEventListener("click", () => { if (confirmLeave()) openSection(section.id); });
      list.append(el("li", {}, button));
    }
    const first = list.querySelector("button");
    if (first) first.focus();
  }

  async function openSection(id, { keepMessages = false } = {}) {
    const result = await api("/sections/" + id);
    if (!result.ok) { fail(problemText(result)); return; }
    show(result.data, result.etag);
    markCurrent("section-list", "id", id);
    if (!keepMessages) { say(""); fail("", false); }
    $("your-version").hidden = true;
    $("section-heading").focus();
    if (!$("revisions").hidden) loadRevisions();
  }

  function show(section, etag) {
    clearTimeout(state.timer);
    state.previewSeq++;  // a preview still on its way is of text no longer shown
    state.section = section;
    state.etag = etag;
    state.saved = section.body;
    state.savedTitle = section.title;
    $("placeholder").hidden = true;
    $("section-panel").hidden = false;
    $("section-heading").textContent = section.title === null ? "Introduction" : section.title;
    $("section-meta").textContent = "Page " + section.page + " \\u00b7 #" + section.slug +
      " \\u00b7 version " + section.version + " \\u00b7 " + section.status +
      " \\u00b7 updated " + when(section.updated_at);
    $("title-field").hidden = section.title === null;
    $("title").value = section.title || "";
    $("body").value = section.body;
    $("preview").innerHTML = section.html;  // sanitized by the server
    $("preview-state").textContent = "";
    updateDirty();
  }

  function dirty() {
    if (!state.section) return false;
    const titleChanged = state.section.title !== null && $("title").value !== state.savedTitle;
    return $("body").value !== state.saved || titleChanged;
  }

  function updateDirty() {
    $("dirty-state").textContent = dirty() ? "Unsaved changes" : "";
  }

  function confirmLeave() {
    return !dirty() || window.confirm("You have unsaved changes. Leave them?");
  }

  window.addEventListener("beforeunload", (event) => {
    if (dirty()) { event.preventDefault(); event.returnValue = ""; }
  });

  // --- live preview -----------------------------------------------------------------------
  function schedulePreview() {
    updateDirty();
    clearTimeout(state.timer);
    $("preview-state").textContent = "Updating preview\\u2026";
    state.timer = setTimeout(preview, 250);
  }

  async function preview() {
    const seq = ++state.previewSeq;
    const result = await api("/preview", { method: "POST",
      body: { body: $("body").value, section_id: state.section.id } });
    if (seq !== state.previewSeq) return;  // a newer preview is on its way
    if (!result.ok) { $("preview-state").textContent = problemText(result); return; }
    $("preview").innerHTML = result.data.html;  // sanitized by the server
    $("preview-state").textContent = "Preview updated";
  }

  $("body").addEventListener("input", schedulePreview);
  $("title").addEventListener("input", updateDirty);

  // --- saving -----------------------------------------------------------------------------
  async function save() {
    if (!state.section) return;
    const changes = {};
    if ($("body").value !== state.saved) changes.body = $("body").value;
    if (state.section.title !== null && $("title").value !== state.savedTitle) {
      changes.title = $("title").value;
    }
    if (!Object.keys(changes).length) { say("Nothing to save."); return; }
    $("save").disabled = true;
    try {
      const result = await api("/sections/" + state.section.id,
        { method: "PATCH", body: changes, etag: state.etag });
      if (result.ok) {
        show(result.data, result.etag);
        say("Saved \\u2014 now version " + result.data.version + ".");
        if (!$("revisions").hidden) loadRevisions();
      } else if (result.status === 412) {
        $("your-text").value = $("body").value;
        fail("Someone else changed this section since you opened it. Reload to see their " +
             "version; your text is kept below the editor until you leave this section.");
        $("your-version").hidden = false;
      } else {
        fail(problemText(result));
      }
    } finally {
      $("save").disabled = false;
    }
  }

  $("save").addEventListener("click", save);
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") { event.preventDefault(); save(); }
  });
  $("reload").addEventListener("click", async () => {
    if (!state.section) return;
    const mine = $("your-version").hidden ? null : $("your-text").value;
    await openSection(state.section.id);
    if (mine !== null) { $("your-text").value = mine; $("your-version").hidden = false; }
    say("Reloaded version " + state.section.version + ".");
  });

  // --- revisions --------------------------------------------------------------------------
  $("show-revisions").addEventListener("click", () => {
    const open = $("revisions").hidden;
    $("revisions").hidden = !open;
    $("show-revisions").setAttribute("aria-expanded", String(open));
    if (open) loadRevisions();
  });

  async function loadRevisions() {
    const result = await api("/sections/" + state.section.id + "/revisions");
    if (!result.ok) { fail(problemText(result)); return; }
    const list = $("revision-list");
    list.replaceChildren();
    for (const revision of result.data.data) {
      const current = revision.number === state.section.version;
      const label = "Revision " + revision.number + " \\u2014 " + revision.action + " by " +
        revision.created_by;
      const item = el("li", {}, el("span", { textContent: label }),
        el("span", { className: "when", textContent: when(revision.created_at) }));
      const button = el("button", { type: "button",
        textContent: current ? "Current" : "Restore" });
      button.disabled = current;
      button.setAttribute("aria-label", current ? "Revision " + revision.number + " is current"
        : "Restore revision " + revision.number);
      button.addEventListener("click", () => restore(revision.number));
      item.append(button);
      list.append(item);
    }
  }

  async function restore(number) {
    if (dirty() && !window.confirm("Restoring replaces your unsaved changes. Go on?")) return;
    const result = await api("/sections/" + state.section.id + "/revisions/" + number +
      "/restore", { method: "POST", etag: state.etag });
    if (result.ok) {
      show(result.data, result.etag);
      say("Restored revision " + number + " as version " + result.data.version + ".");
      loadRevisions();
    } else if (result.status === 412) {
      fail("Someone else changed this section since you opened it. Reload to see their " +
           "version, then restore again.");
    } else {
      fail(problemText(result));
    }
  }

  // --- start ------------------------------------------------------------------------------
  if (token()) { start(); } else { showSignIn(""); }
})();
</script>
</body>
</html>
"""


def editor_html(nonce: str) -> str:
    """The page with this response's CSP nonce."""
    return EDITOR_HTML.replace(NONCE, nonce)
