// The dashboard's script: refresh the panels marked data-refresh every few seconds (each from its own
// server-rendered fragment), and send the forms marked data-url as JSON. Nothing else: pages, charts and
// tables are rendered by the server.
"use strict";

(function () {
  const POLL_MS = 1000 * (Number(document.body.dataset.pollSeconds) || 5);  // the server says how often
  const status = document.getElementById("status");
  let failing = false;

  function say(text, ok) {
    status.textContent = text;
    status.className = "status " + (ok ? "ok" : "error");
  }

  async function errorText(resp) {
    try {
      const body = await resp.json();
      if (body.errors && body.errors.length) return body.errors[0].message;
      if (body.message) return body.message;
    } catch (ignored) { /* not JSON: the status line says enough */ }
    return resp.status + " " + resp.statusText;
  }

  async function refresh(region, force) {
    if (!force && (document.hidden || region.contains(document.activeElement))) return;  // keep the reader's place
    try {
      const resp = await fetch(region.dataset.refresh, { headers: { Accept: "text/html" }, cache: "no-store" });
      if (!resp.ok) {
        say("Could not refresh: " + resp.status + " " + resp.statusText, false);
        failing = true;
        return;
      }
      region.innerHTML = await resp.text();
      if (failing) { say("Connected again.", true); failing = false; }
    } catch (err) {
      if (!failing) say("The emulator does not answer (" + err.message + "); retrying.", false);
      failing = true;
    }
  }

  function refreshAll(force) {
    document.querySelectorAll("[data-refresh]").forEach(function (region) { refresh(region, force); });
  }

  async function send(method, url, body) {
    const resp = await fetch(url, {
      method: method,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
    if (!resp.ok) throw new Error(await errorText(resp));
    return resp.json();
  }

  document.addEventListener("submit", async function (event) {
    const form = event.target.closest("form[data-url]");
    if (!form) return;
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form, event.submitter));
    const buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    try {
      const answer = await send(form.dataset.method || "POST", form.dataset.url, body);
      say(answer.message || "Done.", true);
      refreshAll(true);
    } catch (err) {
      say(err.message, false);
    } finally {
      buttons.forEach(function (b) { b.disabled = false; });
    }
  });

  document.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-delete]");
    if (!button) return;
    button.disabled = true;
    try {
      const answer = await send("DELETE", button.dataset.delete);
      say(answer.message || "Removed.", true);
      const heading = document.getElementById("faults-h");
      if (heading) heading.focus();  // the button's row is gone: keep the keyboard near it
      refreshAll(true);
    } catch (err) {
      button.disabled = false;
      say(err.message, false);
    }
  });

  setInterval(function () { refreshAll(false); }, POLL_MS);
})();
