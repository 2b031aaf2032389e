// "What is happening now": the newest disclosure events per family with the family's measured
// historical abnormal return (GET /api/signals/latest), in the page's #latest-signals section.
"use strict";

(() => {
  const el = (id) => document.getElementById(id);
  const fmt = (x, digits = 1) => (x === null || x === undefined ? "-" : Number(x).toFixed(digits));
  const money = (x) => (x === null || x === undefined ? "-" : "$" + Number(x).toLocaleString("en-US", { maximumFractionDigits: 0 }));

  function cell(row, text, title) {
    const td = document.createElement("td");
    td.textContent = text;
    if (title) td.title = title;
    row.appendChild(td);
  }

  function render(body) {
    const table = el("signals-table");
    table.replaceChildren();
    const head = document.createElement("tr");
    for (const name of ["public", "family", "symbol", "size", "actors", "historical CAR (21 sessions, matched)", "t", "n"]) {
      const th = document.createElement("th");
      th.textContent = name;
      head.appendChild(th);
    }
    table.appendChild(head);
    for (const event of body.events) {
      const row = document.createElement("tr");
      const h = event.history;
      cell(row, event.known_at.replace("T", " ").slice(0, 16));
      cell(row, event.family);
      cell(row, event.symbol);
      cell(row, money(event.size_usd));
      cell(row, String(event.n_actors), event.actor_ids);
      cell(row, h ? `${fmt(h.car_bp)} bp [${fmt(h.ci_low_bp)}, ${fmt(h.ci_high_bp)}]` : "not measured yet");
      cell(row, h ? fmt(h.t_date, 2) : "-", h ? `two-way t ${fmt(h.t_two_way, 2)}` : "");
      cell(row, h ? String(h.n_events) : "-");
      table.appendChild(row);
    }
    el("signals-note").textContent = body.events.length
      ? "Historical CAR: the family's mean abnormal return after the first close past the public time, from the stored event study (95 % date-bootstrap interval); not a forecast for this event."
      : "No disclosure events stored yet (run the monthly job).";
  }

  async function load() {
    const family = el("signals-family").value;
    const query = new URLSearchParams({ limit: "5", ...(family ? { family } : {}) });
    try {
      const response = await fetch(`/api/signals/latest?${query}`);
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
      const select = el("signals-family");
      if (select.options.length === 1) {
        for (const name of body.families) select.add(new Option(name, name));
      }
      render(body);
    } catch (error) {
      el("signals-note").textContent = `signals unavailable: ${error.message}`;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!el("signals-table")) return;
    el("signals-family").addEventListener("change", load);
    load();
  });
})();
