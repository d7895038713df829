// The admin listener's live dashboard. Plain browser JavaScript with no build
// step; uPlot (a global from /vendor/uPlot.iife.min.js) draws the charts.
//
// Every second it reads GET /status and GET /metrics.json. Requests/s and
// latency come from what changed between two reads: the workers' request
// counter and duration histogram (Prometheus' `rate` and `histogram_quantile`,
// done here over one poll interval). History lives only in this page.
/* global uPlot */

const POLL_MS = 1000;
const KEEP_SAMPLES = 300; // 5 minutes at one sample a second
const REQUESTS = 'rocket_cluster_http_requests_total';
const DURATION = 'rocket_cluster_http_request_duration_seconds';
const MEMORY = 'rocket_cluster_worker_resident_memory_bytes';

/** One array per chart series, all aligned on `time` (seconds, as uPlot wants). */
const history = {
  time: [],
  workers: [],
  ready: [],
  starting: [],
  leaving: [],
  rate: [],
  errorRate: [],
  p50: [],
  p99: [],
  queue: [],
  parked: [],
};

/** Totals read at the previous poll, to turn counters into rates. */
let previous = null;

const charts = {
  workers: chart('workers', { integer: true }, [
    ['all', '#3b4957', 'workers'],
    ['ready', '#1a7f5a', 'ready'],
    ['starting', '#c4a000', 'starting'],
    ['retiring / stopping', '#d4572a', 'leaving'],
  ]),
  rate: chart('rate', {}, [
    ['req/s', '#175cd3', 'rate'],
    ['5xx/s', '#d92d20', 'errorRate'],
  ]),
  latency: chart('latency', {}, [
    ['p50', '#1a7f5a', 'p50'],
    ['p99', '#d4572a', 'p99'],
  ]),
  queue: chart('queue', { integer: true }, [['waiting', '#7a5af8', 'queue']]),
  parked: chart('parked', { integer: true }, [['parked', '#0e9384', 'parked']]),
};

window.addEventListener('resize', () => {
  for (const c of Object.values(charts)) c.plot.setSize(size(c.element));
});

void poll();

async function poll() {
  const started = Date.now();
  try {
    const [status, metrics] = await Promise.all([getJson('/status'), getJson('/metrics.json')]);
    record(status, metrics, started / 1000);
    showProblem(status.pool.errored ? `errored: ${status.pool.errored}` : null);
  } catch (error) {
    showProblem(`cannot read the admin listener: ${error.message}`);
  }
  setTimeout(poll, Math.max(0, POLL_MS - (Date.now() - started)));
}

async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return res.json();
}

/** Adds one sample to the history and redraws everything from it. */
function record(status, metrics, now) {
  const requests = requestTotals(metrics);
  const buckets = durationBuckets(metrics);
  // A worker that exited takes its counts with it: its totals drop, and that
  // interval has no rate rather than a negative one.
  let rate = null;
  let errorRate = null;
  let p50 = null;
  let p99 = null;
  if (previous && requests.all >= previous.requests.all && requests.errors >= previous.requests.errors) {
    const seconds = now - previous.time;
    rate = (requests.all - previous.requests.all) / seconds;
    errorRate = (requests.errors - previous.requests.errors) / seconds;
    const delta = subtractBuckets(buckets, previous.buckets);
    if (delta) {
      p50 = quantile(0.5, delta);
      p99 = quantile(0.99, delta);
    }
  }
  previous = { time: now, requests, buckets };

  const byState = { spawning: 0, ready: 0, draining: 0, stopping: 0 };
  for (const w of status.workers) byState[w.state] = (byState[w.state] ?? 0) + 1;
  push({
    time: now,
    workers: status.workers.length,
    ready: byState.ready,
    starting: byState.spawning,
    leaving: byState.draining + byState.stopping,
    rate,
    errorRate,
    p50: p50 === null ? null : p50 * 1000,
    p99: p99 === null ? null : p99 * 1000,
    queue: status.queue.depth,
    parked: status.parked.count,
  });

  for (const c of Object.values(charts)) c.plot.setData([history.time, ...c.keys.map((k) => history[k])]);
  showFacts(status);
  show('workers', `${byState.ready} / ${status.workers.length}`, byState.ready);
  show('queue-depth', format(status.queue.depth), status.queue.depth);
  show('parked', format(status.parked.count), status.parked.count);
  show('req-rate', rate === null ? '–' : format(Math.round(rate)), rate ?? '');
  const lowest = buckets[0]?.le ?? 0;
  show('latency', p50 === null ? '–' : `${ms(p50, lowest)} / ${ms(p99, lowest)}`, p99 ?? '');
  show('requests-total', format(requests.all), requests.all);
  showWorkers(status.workers, memoryByWorker(metrics));
  document.body.dataset.samples = String(history.time.length);
}

function push(sample) {
  for (const [key, values] of Object.entries(history)) {
    values.push(sample[key]);
    if (values.length > KEEP_SAMPLES) values.shift();
  }
}

function metric(metrics, name) {
  return metrics.find((m) => m.name === name)?.values ?? [];
}

function requestTotals(metrics) {
  let all = 0;
  let errors = 0;
  for (const v of metric(metrics, REQUESTS)) {
    all += v.value;
    if (Number(v.labels.code) >= 500) errors += v.value;
  }
  return { all, errors };
}

/** The histogram's cumulative buckets, `le` ascending with +Inf last. */
function durationBuckets(metrics) {
  return metric(metrics, DURATION)
    .filter((v) => v.metricName === `${DURATION}_bucket`)
    .map((v) => ({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), count: v.value }))
    .sort((a, b) => a.le - b.le);
}

/** Observations made between two reads, per bucket; null if a count went down (a worker left). */
function subtractBuckets(now, before) {
  if (now.length !== before.length) return null;
  const delta = now.map((b, i) => ({ le: b.le, count: b.count - before[i].count }));
  return delta.every((b) => b.count >= 0) ? delta : null;
}

/**
 * The q-quantile of cumulative buckets, interpolated linearly inside the bucket
 * it falls in, as Prometheus' histogram_quantile does. Null with no observations.
 */
function quantile(q, buckets) {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      // Past the last finite bound nothing is known but that bound.
      if (b.le === Infinity) return lower;
      return lower + (b.le - lower) * ((rank - below) / (b.count - below));
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

function memoryByWorker(metrics) {
  const bytes = new Map();
  for (const v of metric(metrics, MEMORY)) bytes.set(String(v.labels.worker), v.value);
  return bytes;
}

function showWorkers(workers, memory) {
  const body = document.querySelector('[data-testid="workers-table"] tbody');
  const rows = workers.map((w) => {
    const tr = document.createElement('tr');
    tr.dataset.testid = 'worker-row';
    tr.dataset.pid = String(w.pid ?? '');
    const rss = memory.get(String(w.id));
    const cells = [
      [w.id],
      [w.pid ?? '–'],
      [w.generation],
      [w.state, `state-${w.state}`],
      [format(w.connections), 'num'],
      [format(w.served), 'num'],
      [rss === undefined ? '–' : `${(rss / 1048576).toFixed(1)} MB`, 'num'],
      [duration(w.uptimeMs), 'num'],
    ];
    for (const [text, className] of cells) {
      const td = document.createElement('td');
      td.textContent = String(text);
      if (className) td.className = className;
      tr.append(td);
    }
    return tr;
  });
  body.replaceChildren(...rows);
}

function showFacts(status) {
  document.querySelector('[data-testid="name"]').textContent = status.name;
  document.title = `${status.name} · rocket-cluster`;
  const facts = [
    status.state,
    `master pid ${status.pid}`,
    `generation ${status.generation}${status.reloading ? ' (reloading)' : ''}`,
    `pool ${status.pool.min}–${status.pool.max}`,
    `up ${duration(status.uptimeMs)}`,
    `listening ${status.listening.join(', ')}`,
  ];
  document.querySelector('[data-testid="facts"]').textContent = facts.join(' · ');
}

function showProblem(text) {
  const el = document.querySelector('[data-testid="problem"]');
  el.hidden = text === null;
  el.textContent = text ?? '';
}

/** Shows `text`; `value` (the raw number) goes to data-value for scripts and tests. */
function show(testid, text, value) {
  const el = document.querySelector(`[data-testid="${testid}"]`);
  el.textContent = text;
  el.dataset.value = String(value);
}

/** A uPlot chart in `[data-chart=name]`; `lines` are [label, colour, history key]. */
function chart(name, { integer = false }, lines) {
  const element = document.querySelector(`[data-chart="${name}"]`);
  const options = {
    ...size(element),
    series: [{}, ...lines.map(([label, stroke]) => ({ label, stroke, width: 2, spanGaps: false, points: { show: false } }))],
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    // Counts of things get whole-number ticks only.
    axes: [{}, { size: 60, ...(integer ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] } : {}) }],
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
  };
  const keys = lines.map(([, , key]) => key);
  const plot = new uPlot(options, [[], ...keys.map(() => [])], element);
  return { element, keys, plot };
}

function size(element) {
  return { width: Math.max(300, element.clientWidth), height: 200 };
}

function format(n) {
  return Number(n).toLocaleString('en-US');
}

/** Seconds as milliseconds; inside the lowest bucket nothing finer than its bound is known. */
function ms(seconds, lowest) {
  if (seconds <= lowest) return `≤${lowest * 1000}`;
  const v = seconds * 1000;
  return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : String(Math.round(v));
}

function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
