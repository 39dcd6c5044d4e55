// teiten dashboard: charts (uPlot) from the HTTP API, and live figures.
// No inline script runs on these pages (CSP script-src 'self'): data comes in data-
// attributes and from /api/v1.
"use strict";

const SERIES_COLOURS = {
  total: "#1f4e79", mirai: "#c0392b", zmap: "#27ae60", masscan: "#8e44ad",
  research: "#7f8c8d", backscatter: "#e67e22", infected: "#c0392b",
};

function times(buckets) {
  // "2024-03-01" or "2024-03-01T05:00:00Z" → Unix seconds
  return buckets.map((b) => Date.parse(b.length === 10 ? b + "T00:00:00Z" : b) / 1000);
}

async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    throw new Error(url + ": HTTP " + response.status);
  }
  return response.json();
}

// Times are UTC, as every figure of teiten is.
const utc = (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC");

function sparkline(element, series) {
  const data = [times(series.buckets), series.values];
  const chart = new uPlot({
    width: 120, height: 28, pxAlign: 0, tzDate: utc,
    cursor: { show: false }, legend: { show: false }, select: { show: false },
    axes: [{ show: false }, { show: false }],
    scales: { x: { time: true } },
    series: [{}, { stroke: SERIES_COLOURS.total, width: 1.25, points: { show: false } }],
  }, data, element);
  element.chart = chart;
  element.dataset.points = JSON.stringify(series.values);
}

// A chart of named lines over the buckets (the first line drawn heavier), with dashed
// marks at the dates of `marks`.
function fullChart(element, buckets, named, marks) {
  const names = Object.keys(named);
  const data = [times(buckets), ...names.map((n) => named[n])];
  const lines = names.map((name, i) => ({
    label: (names.length === 1 && element.dataset.label) || name, stroke: SERIES_COLOURS[name] || (i === 0 ? SERIES_COLOURS.total : "#555"),
    width: i === 0 ? 2 : 1.25,
  }));
  const markTimes = marks.map((m) => Date.parse(m.date + "T12:00:00Z") / 1000);
  const chart = new uPlot({
    width: Math.min(element.clientWidth || 900, 1100), height: 320, tzDate: utc,
    scales: { x: { time: true } },
    series: [element.dataset.time ? { label: element.dataset.time } : {}, ...lines],
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = "#d35400";
        ctx.setLineDash([4, 3]);
        for (const t of markTimes) {
          const x = u.valToPos(t, "x", true);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
        }
        ctx.restore();
      }],
    },
  }, data, element);
  element.chart = chart;
  element.dataset.points = JSON.stringify(data[1]);
  element.dataset.marks = JSON.stringify(marks.map((m) => m.date));
}

function matches(finding, subject) {
  const s = finding.subject || {};
  if (subject.port && String(s.port) !== String(subject.port)) {
    if (!(finding.kind === "crossover" && String(s.rising || "").startsWith(subject.port + "/"))) {
      return false;
    }
  }
  if (subject.country && s.country && s.country !== subject.country.toUpperCase()) {
    return false;
  }
  return true;
}

function findingMarks(findings, subject, lang) {
  const marks = [];
  for (const f of findings) {
    if (!matches(f, subject) || !f.start) {
      continue;
    }
    marks.push({ date: f.start, title: f.title[lang] || f.title.en });
  }
  return marks;
}

async function drawSparklines(root) {
  const cells = Array.from(root.querySelectorAll(".spark[data-series]"));
  // One sparkline that cannot be drawn (e.g. the client is over its request budget)
  // leaves its cell empty; the others are drawn.
  await Promise.allSettled(cells.map(async (cell) => {
    sparkline(cell, await getJSON(cell.dataset.series));
  }));
}

async function drawSeriesPage() {
  const element = document.getElementById("chart");
  if (!element) {
    return;
  }
  const lang = document.body.dataset.lang;
  const [series, phenomena] = await Promise.all([
    getJSON(element.dataset.series), getJSON(element.dataset.phenomena),
  ]);
  const marks = findingMarks(phenomena.findings, JSON.parse(element.dataset.subject), lang);
  fullChart(element, series.buckets, { total: series.values, ...series.breakdown }, marks);
  const list = document.getElementById("marks");
  for (const m of marks) {
    const item = document.createElement("li");
    item.textContent = m.date + ": " + m.title;
    list.appendChild(item);
  }
}

// The infected hosts page: the country's infected sources per day, from its API answer.
async function drawInfectedPage() {
  const element = document.getElementById("infected-chart");
  if (!element) {
    return;
  }
  const summary = await getJSON(element.dataset.infected);
  fullChart(element, summary.trend.buckets, { infected: summary.trend.values }, []);
}

function drawEvidence(root) {
  for (const element of root.querySelectorAll(".chart[data-evidence]")) {
    const evidence = JSON.parse(element.dataset.evidence);
    fullChart(element, evidence.dates, evidence.values, []);  // lines named as the finding does
  }
}

// Live figures: when the store's version changes (a collector stored a batch), the
// page's own HTML is fetched again and its figures are swapped in, without a reload.
async function live() {
  const marker = document.getElementById("live");
  if (!marker) {
    return;
  }
  // The store's version is its answers' ETag (asked plainly: a 200 from the server's
  // cache, not a conditional request); the page carries the one it was made at.
  const version = async (etag) => {
    const response = await fetch("/api/v1/store", { credentials: "same-origin" });
    return response.ok ? response.headers.get("ETag") : etag;
  };
  const etag = marker.dataset.etag;
  document.body.dataset.live = "watching";
  watch(etag, version);  // in the background, for as long as the page is open
}

async function watch(etag, version) {
  const every = Number(document.body.dataset.poll || 10000);
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  // One question at a time: the next is asked `every` ms after the last answer.
  for (;;) {
    await pause(every);
    const now = await version(etag);
    if (now === etag) {
      continue;
    }
    etag = now;
    const html = await (await fetch(location.href, { credentials: "same-origin" })).text();
    const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
    const main = document.getElementById("main");
    main.replaceChildren(...fresh.childNodes);
    await drawSparklines(main);
    const stamp = document.getElementById("updated");
    if (stamp) {
      stamp.textContent = new Date().toISOString().slice(11, 19) + " UTC";
    }
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  await Promise.all([drawSparklines(document), drawSeriesPage(), drawInfectedPage()]);
  drawEvidence(document);
  await live();
  document.body.dataset.ready = "true";
});
