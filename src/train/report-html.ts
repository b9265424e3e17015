import type { ReportData, SettingValue } from './report-data.js';

/**
 * The training report as one self-contained HTML page: the data as a JSON script tag, uPlot's
 * script and style inlined (the caller reads them: this module imports nothing, so it builds
 * anywhere), and a small script that draws the charts and the images on canvases. Nothing is
 * fetched: the page opens offline, from a file.
 */

/** uPlot's files, as text (dist/uPlot.iife.min.js and dist/uPlot.min.css). */
export interface ReportAssets {
  uplotJs: string;
  uplotCss: string;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Text safe inside <script> or <style>: no closing tag, no comment opener can end it early. */
const inlineScript = (s: string): string => s.replace(/<\/(script|style)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

/** uPlot's banner names its home page by URL; the page keeps the credit without the scheme, so it holds no link at all. */
const stripBannerUrl = (s: string): string => s.replace(/^\/\*!\s*https?:\/\//, '/*! ');

const pct = (v: number | null, digits = 2): string => (v === null ? '–' : v > 0 && v < 0.5 * 10 ** -(digits + 2) ? `<${(10 ** -digits).toFixed(digits)}%` : `${(v * 100).toFixed(digits)}%`);
const rate = (v: number | null): string => (v === null ? '–' : v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(3))));
const num = (v: number | null, digits = 4): string => (v === null ? '–' : v.toFixed(digits));

function duration(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 90) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return m < 60 ? `${m} min ${s} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function settingText(v: SettingValue): string {
  return v === null ? '–' : typeof v === 'string' ? v : String(v);
}

/** A cell colour: the share of its row, green on the diagonal and red off it. */
function cellStyle(count: number, rowTotal: number, diagonal: boolean): string {
  if (!count || !rowTotal) return '';
  const share = count / rowTotal;
  const alpha = (0.12 + 0.88 * share).toFixed(3);
  const colour = diagonal ? `rgba(34,139,34,${alpha})` : `rgba(214,39,40,${alpha})`;
  return ` style="background:${colour};${share > 0.55 ? 'color:#fff;' : ''}"`;
}

function confusionTable(d: ReportData): string {
  const head = d.classes.map((c, j) => `<th class="col" title="predicted ${esc(c)}" data-col="${j}">${esc(c)}</th>`).join('');
  const rows = d.confusion
    .map((row, i) => {
      const total = row.reduce((a, b) => a + b, 0);
      const cells = row.map((n, j) => `<td class="cell${i === j ? ' diag' : ''}" data-row="${i}" data-col="${j}" data-count="${n}"${cellStyle(n, total, i === j)}>${n || ''}</td>`).join('');
      return `<tr><th class="row" title="true ${esc(d.classes[i]!)}">${esc(d.classes[i]!)}</th>${cells}<td class="total">${total}</td></tr>`;
    })
    .join('\n');
  const total = d.confusion.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
  return (
    `<table id="confusion" class="confusion" data-total="${total}">` +
    `<thead><tr><th class="corner">true \\ predicted</th>${head}<th>all</th></tr></thead>\n<tbody>\n${rows}\n</tbody></table>`
  );
}

function perClassTable(d: ReportData): string {
  const rows = d.perClass
    .map(
      (c, i) =>
        `<tr data-class="${i}"><td class="name">${esc(c.name)}</td><td class="bar"><span style="width:${((c.accuracy ?? 0) * 100).toFixed(1)}%"></span></td>` +
        `<td class="num">${pct(c.accuracy, 1)}</td><td class="num dim">${c.correct} / ${c.count}</td></tr>`,
    )
    .join('\n');
  return `<table id="per-class" class="per-class"><tbody>\n${rows}\n</tbody></table>`;
}

function historyTable(d: ReportData): string {
  const rows = d.history
    .map(
      (e) =>
        `<tr><td>${e.epoch}</td><td>${num(e.trainLoss)}</td><td>${pct(e.trainAccuracy)}</td><td>${num(e.valLoss)}</td><td>${pct(e.valAccuracy)}</td>` +
        `<td>${rate(e.lr)}</td><td title="${e.imagesPerSecond === null ? '' : `${Math.round(e.imagesPerSecond)} images/s`}">${num(e.seconds, 1)}</td></tr>`,
    )
    .join('\n');
  return (
    '<table class="history"><thead><tr><th>epoch</th><th title="training loss">loss</th><th title="training accuracy">acc</th><th title="validation loss">val loss</th><th title="validation accuracy">val acc</th><th title="learning rate">lr</th><th title="seconds">s</th></tr></thead>' +
    `<tbody>\n${rows}\n</tbody></table>`
  );
}

function settingsTable(d: ReportData): string {
  const rows = Object.entries(d.settings)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(settingText(v))}</td></tr>`)
    .join('');
  return rows ? `<table class="settings">${rows}</table>` : '<p class="dim">no settings recorded</p>';
}

function worstGrid(d: ReportData): string {
  if (!d.worst.length) return '<p class="dim">no test images</p>';
  return d.worst
    .map((w, i) => {
      const guesses = w.top
        .map(
          (g) =>
            `<li class="${g.label === w.label ? 'right' : 'wrong'}"><span class="guess">${esc(d.classes[g.label] ?? String(g.label))}</span>` +
            `<span class="p" style="width:${Math.max(1, g.probability * 60).toFixed(0)}px"></span>${pct(g.probability, 1)}</li>`,
        )
        .join('');
      return (
        `<figure class="example" data-index="${w.index}"><canvas class="worst-image" data-worst="${i}" width="${d.image.width}" height="${d.image.height}"></canvas>` +
        `<figcaption><div>true class: <b>${esc(d.classes[w.label] ?? String(w.label))}</b> <span class="dim">(${pct(w.probability, 1)})</span></div><div class="dim">top 3 guesses:</div><ol>${guesses}</ol>` +
        `<div class="dim">test image #${w.index}</div></figcaption></figure>`
      );
    })
    .join('\n');
}

function filterGrid(d: ReportData): string {
  const f = d.filters;
  if (!f) return '<p class="dim">the model has no convolution layer</p>';
  const canvases = f.filters.map((_, i) => `<canvas class="filter" data-filter="${i}" width="${f.image.width}" height="${f.image.height}" title="filter ${i}"></canvas>`).join('');
  return `<p class="dim">${esc(f.name)} [${f.shape.join(', ')}], ${f.image.channels === 3 ? 'RGB' : f.shape[1] === 1 ? 'gray' : `the mean of its ${f.shape[1]} input channels in gray`}, each filter scaled from its own minimum (black) to maximum (white)</p><div class="filters">${canvases}</div>`;
}

const CSS = `
:root { --fg:#1d2330; --dim:#6b7385; --line:#e2e5ec; --card:#fff; --bg:#f4f5f8; --accent:#1f6feb; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif; color:var(--fg); background:var(--bg); }
header { padding:20px 28px 8px; }
h1 { font-size:20px; margin:0 0 4px; }
h2 { font-size:15px; margin:0 0 10px; }
main { padding:0 28px 28px; display:grid; grid-template-columns:repeat(auto-fit,minmax(420px,1fr)); gap:16px; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:14px 16px; min-width:0; overflow:auto; }
section.wide { grid-column:1/-1; }
.dim { color:var(--dim); }
.stats { display:flex; flex-wrap:wrap; gap:10px; margin:12px 0 4px; }
.stat { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:8px 14px; min-width:120px; }
.stat .v { font-size:22px; font-weight:600; }
.stat.main .v { color:var(--accent); font-size:28px; }
.stat .k { color:var(--dim); font-size:12px; }
table { border-collapse:collapse; }
table.settings th { text-align:left; font-weight:500; color:var(--dim); padding:2px 14px 2px 0; vertical-align:top; white-space:nowrap; }
table.settings td { padding:2px 0; font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:12.5px; word-break:break-all; }
table.history { font-size:12px; }
table.history th, table.history td { padding:3px 5px; text-align:right; border-bottom:1px solid var(--line); white-space:nowrap; }
table.confusion { font-size:12px; }
table.confusion th, table.confusion td { border:1px solid var(--line); padding:3px 6px; text-align:center; min-width:30px; }
table.confusion th.col { writing-mode:vertical-rl; transform:rotate(180deg); max-height:120px; font-weight:500; }
table.confusion th.row { text-align:right; font-weight:500; white-space:nowrap; }
table.confusion td.total { color:var(--dim); }
table.per-class td { padding:2px 8px 2px 0; }
table.per-class td.name { white-space:nowrap; }
table.per-class td.bar { width:60%; min-width:120px; }
table.per-class td.bar span { display:block; height:12px; background:var(--accent); border-radius:2px; }
td.num { text-align:right; white-space:nowrap; font-variant-numeric:tabular-nums; }
.examples { display:flex; flex-wrap:wrap; gap:12px; }
figure.example { margin:0; width:150px; }
canvas.worst-image { width:96px; image-rendering:pixelated; border:1px solid var(--line); background:#000; }
figure.example ol { margin:2px 0; padding:0; list-style:none; font-size:12px; }
figure.example li { display:flex; align-items:center; gap:4px; white-space:nowrap; }
figure.example li .guess { display:inline-block; min-width:44px; max-width:70px; overflow:hidden; text-overflow:ellipsis; }
figure.example li .p { display:inline-block; height:8px; background:#d62728; border-radius:2px; }
figure.example li.right { color:#1a7f37; font-weight:600; }
figure.example li.right .p { background:#1a7f37; }
figure.example figcaption { font-size:12.5px; }
.filters { display:flex; flex-wrap:wrap; gap:6px; }
canvas.filter { width:56px; image-rendering:pixelated; border:1px solid var(--line); }
.chart { min-height:280px; }
footer { padding:0 28px 24px; color:var(--dim); font-size:12px; }
`;

/** The script that draws the page from the JSON (runs in the browser). */
const SCRIPT = `
(function () {
  var d = JSON.parse(document.getElementById('report-data').textContent);
  var state = { ready: false, charts: 0 };
  window.convkitReport = state;
  function bytes(b64) {
    var s = atob(b64), out = new Uint8ClampedArray(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function draw(canvas, b64, shape) {
    var px = bytes(b64), n = shape.height * shape.width;
    var ctx = canvas.getContext('2d'), img = ctx.createImageData(shape.width, shape.height);
    for (var i = 0; i < n; i++) {
      var r = px[i], g = shape.channels === 3 ? px[n + i] : r, b = shape.channels === 3 ? px[2 * n + i] : r;
      img.data[4 * i] = r; img.data[4 * i + 1] = g; img.data[4 * i + 2] = b; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }
  document.querySelectorAll('canvas.worst-image').forEach(function (c) { draw(c, d.worst[+c.dataset.worst].pixels, d.image); });
  if (d.filters) document.querySelectorAll('canvas.filter').forEach(function (c) { draw(c, d.filters.filters[+c.dataset.filter], d.filters.image); });
  var h = d.history;
  function col(k, scale) { return h.map(function (e) { return e[k] === null ? null : e[k] * (scale || 1); }); }
  function some(a) { return a.some(function (v) { return v !== null; }); }
  function chart(id, label, series, cols) {
    var el = document.getElementById(id);
    if (!el) return;
    var keep = cols.map(some);
    var ss = [{ label: 'epoch' }].concat(series.filter(function (_, i) { return keep[i]; }).map(function (s) {
      return { label: s[0], stroke: s[1], width: 2, points: { show: true, size: 6 }, value: function (u, v) { return v === null ? '–' : (+v.toPrecision(4)).toString(); } };
    }));
    var data = [h.map(function (e) { return e.epoch; })].concat(cols.filter(function (_, i) { return keep[i]; }));
    var width = Math.max(300, el.clientWidth || 480);
    new uPlot({
      width: width, height: 240,
      scales: { x: { time: false } },
      axes: [
        { label: 'epoch', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500] },
        { label: label, size: 64, values: function (u, splits) { return splits.map(function (v) { return +v.toPrecision(3); }); } },
      ],
      series: ss,
    }, data, el);
    state.charts++;
  }
  if (h.length) {
    chart('chart-loss', 'loss', [['train loss', '#1f77b4'], ['validation loss', '#ff7f0e']], [col('trainLoss'), col('valLoss')]);
    chart('chart-accuracy', 'accuracy %', [['train accuracy', '#1f77b4'], ['validation accuracy', '#ff7f0e']], [col('trainAccuracy', 100), col('valAccuracy', 100)]);
    chart('chart-lr', 'learning rate', [['learning rate', '#2ca02c']], [col('lr')]);
  }
  state.ready = true;
})();
`;

/** The report page for `data`, with uPlot inlined from `assets`. */
export function reportHtml(data: ReportData, assets: ReportAssets): string {
  const d = data;
  const totalTrain = d.history.reduce((s, e) => s + (e.seconds ?? 0), 0);
  const lastEpoch = d.history.length ? d.history[d.history.length - 1]! : null;
  const setting = (k: string): string => (k in d.settings ? settingText(d.settings[k]!) : '');
  const subtitle = [setting('model'), setting('data') && `on ${setting('data')}`].filter(Boolean).join(' ');
  const stat = (k: string, v: string, cls = '') => `<div class="stat${cls}"><div class="v">${v}</div><div class="k">${k}</div></div>`;
  const json = JSON.stringify(d).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  const charts = d.history.length
    ? `<section><h2>Loss</h2><div id="chart-loss" class="chart"></div></section>
<section><h2>Accuracy</h2><div id="chart-accuracy" class="chart"></div></section>
<section><h2>Learning rate</h2><div id="chart-lr" class="chart"></div></section>`
    : '<section class="wide"><h2>Curves</h2><p class="dim">no training history recorded</p></section>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="convkit">
<title>${esc(d.title)}${subtitle ? ` – ${esc(subtitle)}` : ''}</title>
<style>${inlineScript(assets.uplotCss)}</style>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(d.title)}</h1>
<div class="dim">${esc(subtitle)}${subtitle ? ' · ' : ''}made ${esc(d.created.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</div>
<div class="stats">
${stat('test accuracy', pct(d.test.accuracy), ' main')}
${stat(`test loss (${d.test.count} images)`, num(d.test.loss))}
${stat('top-5 accuracy', pct(d.test.top5))}
${stat('epochs', String(lastEpoch ? lastEpoch.epoch : 0))}
${lastEpoch && lastEpoch.valAccuracy !== null ? stat('last validation accuracy', pct(lastEpoch.valAccuracy)) : ''}
${d.wallSeconds !== null ? stat('wall time', duration(d.wallSeconds)) : ''}
${stat('training time (epochs)', duration(d.history.length ? totalTrain : null))}
</div>
</header>
<main>
${charts}
<section><h2>Settings</h2>${settingsTable(d)}</section>
<section><h2>Accuracy per class</h2>${perClassTable(d)}</section>
${d.history.length ? `<section><h2>Epochs</h2>${historyTable(d)}</section>` : ''}
<section class="wide"><h2>Confusion matrix <span class="dim">(rows: true class, columns: predicted; colour: share of the row)</span></h2>${confusionTable(d)}</section>
<section class="wide"><h2>Worst-classified test images <span class="dim">(lowest probability on the true class)</span></h2><div class="examples">${worstGrid(d)}</div></section>
<section class="wide"><h2>First layer's filters</h2>${filterGrid(d)}</section>
</main>
<footer>Made by convkit. Charts by uPlot (MIT License, © Leon Sorokin).</footer>
<script type="application/json" id="report-data">${json}</script>
<script>${inlineScript(stripBannerUrl(assets.uplotJs))}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
