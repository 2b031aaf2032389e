// The smart-money page: stock analysis with the smart-money section (when the admin toggle is
// on) and the live event feed. Plain JS, no external resources.
"use strict";

const $ = (id) => document.getElementById(id);
const pct = (x) => (x === null || x === undefined ? "-" : (100 * x).toFixed(1) + " %");
const num = (x, digits = 2) => (x === null || x === undefined ? "-" : Number(x).toFixed(digits));
const FEED_MAX = 50;

async function getJSON(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
  return body;
}

async function loadModelInfo() {
  try {
    const registry = await getJSON("/api/ml/models");
    const champion = registry.versions.find((v) => v.version === registry.champion);
    $("model-info").textContent = champion
      ? `model v${champion.version} · test ROC AUC ${num(champion.metrics.roc_auc, 3)}`
      : "no champion model registered";
  } catch (error) {
    $("model-info").textContent = `registry unavailable: ${error.message}`;
  }
}

const CONTEXT_ROWS = [
  ["momentum", "return_1m", "1-month return", pct],
  ["momentum", "return_3m", "3-month return", pct],
  ["momentum", "return_12_1m", "12-1 month return", pct],
  ["risk", "volatility_20d", "20-day volatility (annualised)", pct],
  ["risk", "volatility_250d", "1-year volatility (annualised)", pct],
  ["risk", "beta_250d", "beta", (x) => num(x, 2)],
  ["liquidity", "market_cap_usd", "market cap", (x) => (x === null ? "-" : "$" + (x / 1e9).toFixed(2) + " bn")],
  ["liquidity", "dollar_volume_20d_usd", "20-day dollar volume", (x) => (x === null ? "-" : "$" + (x / 1e6).toFixed(1) + " m")],
];

function showAnalysis(item) {
  $("analysis").classList.remove("hidden");
  $("analysis-symbol").textContent = item.symbol;
  $("analysis-date").textContent = item.as_of;
  const table = $("price-context");
  table.replaceChildren();
  for (const [section, key, label, format] of CONTEXT_ROWS) {
    const row = table.insertRow();
    row.insertCell().textContent = label;
    row.insertCell().textContent = format(item[section][key]);
  }
}

function showPrediction(prediction) {
  $("toggle-off").classList.add("hidden");
  $("prediction").classList.remove("hidden");
  const score = prediction.conviction_score;
  $("gauge-needle").style.transform = `rotate(${((score - 50) * 1.8).toFixed(2)}deg)`;
  $("gauge-label").textContent = `${num(score, 1)} / 100`;
  const conviction = $("conviction");
  conviction.textContent = prediction.predicted_conviction;
  conviction.className = "conviction " + prediction.predicted_conviction;
  $("score-value").textContent = num(score, 1);
  const bar = $("score-bar");
  bar.style.left = Math.min(score, 50) + "%";
  bar.style.width = Math.abs(score - 50) + "%";
  bar.style.background = score >= 50 ? "var(--bull)" : "var(--bear)";
  const badge = $("confidence-badge");
  badge.textContent = prediction.confidence;
  badge.className = "badge " + prediction.confidence;
  $("probabilities").textContent =
    `P(+5 % in 14 days) ${pct(prediction.probability)} vs ${pct(prediction.neutral_probability)} from volatility alone · ` +
    `model v${prediction.model.version}, test accuracy ${pct(prediction.model.accuracy)}, ROC AUC ${num(prediction.model.roc_auc, 3)}` +
    (prediction.universe_note ? ` · ${prediction.universe_note}` : "");
  for (const row of $("signals").rows) {
    const name = row.dataset.signal;
    const value = prediction.signals[name];
    row.querySelector(".value").textContent = value;
    row.querySelector(".value").className = "value " + value;
    row.querySelector(".reason").textContent = prediction.signal_reasons[name];
  }
}

function hidePrediction(reason) {
  $("prediction").classList.add("hidden");
  const notice = $("toggle-off");
  notice.textContent = reason;
  notice.classList.remove("hidden");
}

async function analyze(event) {
  event.preventDefault();
  const symbol = $("symbol").value.trim().toUpperCase();
  if (!symbol) return;
  const body = { symbols: [symbol], include_smart_money: true };
  if ($("date").value) body.date = $("date").value;
  $("message").textContent = "computing (the first request for a date reads the source and can take a while)...";
  try {
    const result = await getJSON("/api/stock-analysis", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!result.analyses.length) {
      $("message").textContent = result.errors.map((e) => e.detail).join("; ");
      return;
    }
    $("message").textContent = "";
    const item = result.analyses[0];
    showAnalysis(item);
    $("smart-money").classList.remove("hidden");
    if (item.smart_money_flow) showPrediction(item.smart_money_flow);
    else hidePrediction(item.smart_money_flow_error || result.smart_money_flow_status.reason);
  } catch (error) {
    $("message").textContent = error.message;
  }
}

// GET /flow/calibration: the calibration's top step per profile. A probability on a top step
// rests on that step's calibration events only; it is shown as their 95 % lower bound ("> 90.7 %")
// instead of the step's value (often 1.0 on the separable synthetic families).
let calibration = null;

function topStep(score) {
  if (!calibration || score.calibration_version !== calibration.version) return null;
  const top = calibration.top[score.profile_id];
  return top && score.probability >= top.probability ? top : null;
}

function probabilityText(score) {
  const top = topStep(score);
  return top ? top.label : pct(score.probability);
}

function probabilityNote(score) {
  const top = topStep(score);
  const market = calibration && calibration.synthetic ? "synthetic-market" : "labelled";
  if (!top) return calibration ? `calibrated probability ${pct(score.probability)} (${market} calibration ${calibration.version})` : "";
  return `calibrated probability ${pct(score.probability)}: every one of the ${top.positives} ${market} calibration events ` +
    `this high was ${score.profile_id}; the 95 % lower bound is ${pct(top.lower_95)}`;
}

async function loadCalibration() {
  try {
    calibration = await getJSON("/flow/calibration");
    $("feed-note").textContent = calibration.synthetic
      ? `Probabilities are calibrated on ${calibration.events} events of the synthetic market (${calibration.version}): ` +
        "evidence about the synthetic families, not about real flow. A probability on a profile's top calibration step " +
        "is shown as the 95 % lower bound of that step."
      : `Probabilities are calibrated (${calibration.version}); a probability on a profile's top calibration step is ` +
        "shown as the 95 % lower bound of that step.";
  } catch (error) {
    calibration = null;
  }
}

function feedItem(event, fresh) {
  const li = document.createElement("li");
  li.className = "feed-item" + (fresh ? " new" : "");
  li.dataset.eventId = event.event_id;
  const primary = event.profile_scores.find((s) => s.profile_id === event.primary_profile_id);
  const head = document.createElement("div");
  head.className = "head";
  const when = new Date(event.meta.source_ts);
  const parts = [
    ["sym", event.underlying_id],
    ["profile", event.primary_profile_id || "abstained"],
    ["dir-" + event.primary_direction, event.primary_direction],
    ["badge " + (primary ? primary.confidence_band.toUpperCase() : "LOW"), primary ? `${primary.confidence_band} ${probabilityText(primary)}` : "no profile", primary ? probabilityNote(primary) : ""],
    ["muted", when.toISOString().replace("T", " ").slice(0, 19) + " UTC"],
  ];
  for (const [cls, text, title] of parts) {
    const span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    if (title) span.title = title;
    head.appendChild(span);
  }
  const reasons = document.createElement("div");
  reasons.className = "reasons";
  reasons.textContent = primary ? primary.reasons.join(", ") : event.suppressed_reasons.join(", ");
  li.append(head, reasons);
  return li;
}

function addToFeed(event, fresh) {
  const feed = $("feed");
  if (feed.querySelector(`[data-event-id="${event.event_id}"]`)) return;
  if (fresh) feed.prepend(feedItem(event, true));
  else feed.appendChild(feedItem(event, false));
  while (feed.children.length > FEED_MAX) feed.lastChild.remove();
}

function connectFeed() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/smart-money`);
  const status = $("feed-status");
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "hello") {
      status.textContent = "live";
      status.className = "badge live";
    } else if (data.type === "event") {
      addToFeed(data.event, true);
    }
  };
  socket.onclose = () => {
    status.textContent = "reconnecting";
    status.className = "badge down";
    setTimeout(connectFeed, 3000);
  };
}

async function loadFeed() {
  await loadCalibration();
  try {
    const events = await getJSON("/flow/smart-money?limit=20");
    for (const event of events) addToFeed(event, false);
  } catch (error) {
    $("feed-status").textContent = "unavailable";
  }
  connectFeed();
}

document.addEventListener("DOMContentLoaded", () => {
  $("lookup-form").addEventListener("submit", analyze);
  loadModelInfo();
  loadFeed();
});
