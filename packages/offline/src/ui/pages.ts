/**
 * The UI's pages as server-rendered HTML (hono/html escapes every interpolated value). A small script
 * (`static/ui.js`) adds table sorting and run selection for comparison; everything else works without it.
 */
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ArtifactEntry, Experiment, Metric, ModelVersion, RunRecord } from '../tracking/types.ts';
import type { ModelWithVersions } from '../tracking/tracker.ts';
import { formatNumber, lineChart } from './charts.ts';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export function layout(title: string, active: 'runs' | 'models', body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · lockstep</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/ui.css">
<script src="/static/ui.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/">lockstep</a>
  <nav>
    <a href="/" class="${active === 'runs' ? 'active' : ''}">Experiments</a>
    <a href="/models" class="${active === 'models' ? 'active' : ''}">Models</a>
  </nav>
</header>
<main>${body}</main>
</body>
</html>`;
}

export function errorPage(status: number, message: string): Html {
  return layout('Error', 'runs', html`<h1>${status === 404 ? 'Not found' : 'Error'}</h1><p class="error">${message}</p><p><a href="/">Back to experiments</a></p>`);
}

const pad = (n: number) => String(n).padStart(2, '0');

export function formatTime(ms: number | undefined): string {
  if (ms === undefined || ms === 0) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatDuration(run: RunRecord): string {
  if (run.info.endTime === undefined) return run.info.status === 'RUNNING' ? 'running' : '—';
  const s = (run.info.endTime - run.info.startTime) / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

const statusBadge = (status: string) => html`<span class="status status-${status.toLowerCase()}">${status}</span>`;
const aliasBadges = (aliases: string[]) => aliases.map((a) => html`<span class="alias">@${a}</span> `);
const runLink = (run: RunRecord) => html`<a href="/runs/${run.info.runId}">${run.info.runName || run.info.runId.slice(0, 8)}</a>`;

/** A cell with a sort key (numbers sort numerically, missing values last). */
const cell = (text: string, sortValue: string | number | undefined, cls = '') =>
  html`<td class="${cls}" data-sort="${sortValue === undefined ? '' : String(sortValue)}">${text}</td>`;

export interface RunsPageData {
  experiments: Experiment[];
  selected: string;
  filter: string;
  filterError?: string;
  runs: RunRecord[];
  runCounts: Record<string, number>;
}

export function runsPage(d: RunsPageData): Html {
  const paramKeys = [...new Set(d.runs.flatMap((r) => Object.keys(r.data.params)))].sort();
  const metricKeys = [...new Set(d.runs.flatMap((r) => Object.keys(r.data.metrics)))].sort();
  const names = new Map(d.experiments.map((e) => [e.experimentId, e.name]));
  const current = d.selected === 'all' ? 'All experiments' : (names.get(d.selected) ?? d.selected);
  const byId = new Set(d.runs.map((r) => r.info.runId));
  return layout(
    current,
    'runs',
    html`<div class="columns">
<aside class="experiments">
  <h2>Experiments</h2>
  <ul>
    ${d.experiments.map(
      (e) =>
        html`<li class="${e.experimentId === d.selected ? 'selected' : ''}"><a href="/?experiment=${e.experimentId}">${e.name}</a> <span class="count">${d.runCounts[e.experimentId] ?? 0}</span></li>`,
    )}
    <li class="${d.selected === 'all' ? 'selected' : ''}"><a href="/?experiment=all">All experiments</a></li>
  </ul>
</aside>
<section class="runs">
  <h1>${current}</h1>
  <form class="filter" method="get" action="/">
    <input type="hidden" name="experiment" value="${d.selected}">
    <input type="search" name="filter" value="${d.filter}" placeholder="metrics.auc > 0.7 and params.lr = '0.05'" aria-label="Filter runs (MLflow search syntax)">
    <button type="submit">Search</button>
  </form>
  ${d.filterError ? html`<p class="error">${d.filterError}</p>` : ''}
  <div class="toolbar"><button type="button" id="compare" disabled>Compare selected</button> <span class="hint">${d.runs.length} run${d.runs.length === 1 ? '' : 's'} · click a header to sort</span></div>
  <div class="table-wrap">
  <table class="sortable" id="runs-table">
    <thead>
      <tr class="groups"><th colspan="${d.selected === 'all' ? 6 : 5}"></th>${paramKeys.length ? html`<th colspan="${paramKeys.length}" class="group">Parameters</th>` : ''}${metricKeys.length ? html`<th colspan="${metricKeys.length}" class="group">Metrics</th>` : ''}</tr>
      <tr>
        <th class="nosort"><input type="checkbox" id="select-all" aria-label="Select all runs"></th>
        <th>Run</th><th>Status</th>${d.selected === 'all' ? html`<th>Experiment</th>` : ''}<th>Started</th><th>Duration</th>
        ${paramKeys.map((k) => html`<th class="param">${k}</th>`)}
        ${metricKeys.map((k) => html`<th class="metric">${k}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${d.runs.map((r) => {
        const parent = r.data.tags['mlflow.parentRunId'];
        return html`<tr data-run-id="${r.info.runId}">
        <td><input type="checkbox" class="select-run" value="${r.info.runId}" aria-label="Select ${r.info.runName}"></td>
        <td data-sort="${r.info.runName}">${parent && byId.has(parent) ? html`<span class="nested" title="nested run">↳</span> ` : ''}${runLink(r)}</td>
        <td data-sort="${r.info.status}">${statusBadge(r.info.status)}</td>
        ${d.selected === 'all' ? cell(names.get(r.info.experimentId) ?? r.info.experimentId, names.get(r.info.experimentId)) : ''}
        ${cell(formatTime(r.info.startTime), r.info.startTime)}
        ${cell(formatDuration(r), r.info.endTime === undefined ? undefined : r.info.endTime - r.info.startTime)}
        ${paramKeys.map((k) => cell(r.data.params[k] ?? '', r.data.params[k], 'param'))}
        ${metricKeys.map((k) => {
          const m = r.data.metrics[k];
          return cell(m === undefined ? '' : formatNumber(m.value), m?.value, 'metric num');
        })}
      </tr>`;
      })}
    </tbody>
  </table>
  </div>
  ${d.runs.length === 0 ? html`<p class="empty">No runs yet. Runs appear here as training logs them (<code>lockstep train</code>, or <code>openTracker().startRun()</code>).</p>` : ''}
</section>
</div>`,
  );
}

export interface RunPageData {
  run: RunRecord;
  experiment?: Experiment;
  histories: Record<string, Metric[]>;
  artifacts: ArtifactEntry[];
  report?: string;
  parent?: RunRecord;
  children: RunRecord[];
  versions: ModelVersion[];
}

const kvTable = (rows: Array<[string, Html | string]>, empty: string) =>
  rows.length === 0
    ? html`<p class="empty">${empty}</p>`
    : html`<table class="kv">${rows.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</table>`;

const formatBytes = (n: number | undefined) =>
  n === undefined ? '' : n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;

const artifactHref = (runId: string, p: string) => `/artifacts/${runId}/${p.split('/').map(encodeURIComponent).join('/')}`;

export function runPage(d: RunPageData): Html {
  const { run } = d;
  const tags = Object.entries(run.data.tags).sort(([a], [b]) => a.localeCompare(b));
  const userTags = tags.filter(([k]) => !k.startsWith('mlflow.') && !k.startsWith('lockstep.'));
  const systemTags = tags.filter(([k]) => k.startsWith('mlflow.') || k.startsWith('lockstep.'));
  const metricKeys = Object.keys(run.data.metrics).sort();
  const commit = run.data.tags['mlflow.source.git.commit'];
  return layout(
    run.info.runName,
    'runs',
    html`<nav class="crumbs"><a href="/?experiment=${run.info.experimentId}">${d.experiment?.name ?? `experiment ${run.info.experimentId}`}</a> / ${run.info.runName}</nav>
<h1>${run.info.runName} ${statusBadge(run.info.status)}</h1>
<div class="grid2">
<section>
  <h2>Run</h2>
  ${kvTable(
    [
      ['Run id', html`<code>${run.info.runId}</code>`],
      ['Started', formatTime(run.info.startTime)],
      ['Ended', formatTime(run.info.endTime)],
      ['Duration', formatDuration(run)],
      ['User', run.info.userId || '—'],
      ['Source', run.data.tags['mlflow.source.name'] ?? '—'],
      ['Git commit', commit ? html`<code>${commit.slice(0, 12)}</code>${run.data.tags['lockstep.git.dirty'] === 'true' ? ' (uncommitted changes)' : ''}` : '—'],
      ...(d.parent ? ([['Parent run', runLink(d.parent)]] as Array<[string, Html]>) : []),
      ...(run.data.tags['mlflow.note.content'] ? ([['Description', run.data.tags['mlflow.note.content']]] as Array<[string, string]>) : []),
    ],
    '',
  )}
  <h2>Lineage</h2>
  ${
    run.inputs.length === 0
      ? html`<p class="empty">No data sets recorded.</p>`
      : html`<table class="list"><thead><tr><th>Data set</th><th>Digest</th><th>Context</th><th>Source</th></tr></thead><tbody>${run.inputs.map(
          (i) =>
            html`<tr><td>${i.name}</td><td><code>${i.digest}</code></td><td>${i.tags['mlflow.data.context'] ?? ''}</td><td>${i.source}</td></tr>`,
        )}</tbody></table>`
  }
  ${
    d.versions.length === 0
      ? ''
      : html`<p>Registered as ${d.versions.map((v) => html`<a href="/models#${v.name}">${v.name} v${v.version}</a> ${aliasBadges(v.aliases)}`)}</p>`
  }
  ${d.children.length === 0 ? '' : html`<p>Nested runs: ${d.children.map((c) => html`${runLink(c)} `)}</p>`}
</section>
<section>
  <h2>Parameters</h2>
  ${kvTable(Object.entries(run.data.params).sort(([a], [b]) => a.localeCompare(b)), 'No parameters.')}
  <h2>Metrics</h2>
  ${
    metricKeys.length === 0
      ? html`<p class="empty">No metrics.</p>`
      : html`<table class="list"><thead><tr><th>Metric</th><th>Latest</th><th>Step</th><th>Values</th></tr></thead><tbody>${metricKeys.map(
          (k) =>
            html`<tr><td>${k}</td><td class="num">${formatNumber(run.data.metrics[k].value)}</td><td class="num">${run.data.metrics[k].step}</td><td class="num">${d.histories[k]?.length ?? 0}</td></tr>`,
        )}</tbody></table>`
  }
</section>
</div>
<section>
  <h2>Metric curves</h2>
  <div class="charts">${metricKeys.map((k) => raw(lineChart([{ label: run.info.runName, points: (d.histories[k] ?? []).map((m) => [m.step, m.value]) }], { title: k })))}</div>
</section>
${
  d.report
    ? html`<section><h2>Training report</h2><p><a href="${artifactHref(run.info.runId, d.report)}" target="_blank">Open ${d.report}</a></p><iframe class="report" title="Training report" sandbox="allow-scripts" src="${artifactHref(run.info.runId, d.report)}"></iframe></section>`
    : ''
}
<div class="grid2">
<section>
  <h2>Artifacts</h2>
  ${
    d.artifacts.length === 0
      ? html`<p class="empty">No artifacts.</p>`
      : html`<table class="list"><tbody>${d.artifacts.map(
          (a) => html`<tr><td><a href="${artifactHref(run.info.runId, a.path)}">${a.path}</a></td><td class="num">${formatBytes(a.fileSize)}</td></tr>`,
        )}</tbody></table>`
  }
</section>
<section>
  <h2>Tags</h2>
  ${kvTable(userTags, 'No tags.')}
  <details><summary>System tags (${systemTags.length})</summary>${kvTable(systemTags, '')}</details>
</section>
</div>`,
  );
}

export interface ComparePageData {
  runs: RunRecord[];
  histories: Array<Record<string, Metric[]>>;
}

export function comparePage(d: ComparePageData): Html {
  const paramKeys = [...new Set(d.runs.flatMap((r) => Object.keys(r.data.params)))].sort();
  const metricKeys = [...new Set(d.runs.flatMap((r) => Object.keys(r.data.metrics)))].sort();
  const differs = (values: Array<string | undefined>) => new Set(values).size > 1;
  return layout(
    'Compare runs',
    'runs',
    html`<h1>Compare ${d.runs.length} runs</h1>
<div class="table-wrap">
<table class="compare">
  <thead><tr><th></th>${d.runs.map((r) => html`<th>${runLink(r)}</th>`)}</tr></thead>
  <tbody>
    <tr><th>Status</th>${d.runs.map((r) => html`<td>${statusBadge(r.info.status)}</td>`)}</tr>
    <tr><th>Started</th>${d.runs.map((r) => html`<td>${formatTime(r.info.startTime)}</td>`)}</tr>
    <tr><th>Duration</th>${d.runs.map((r) => html`<td>${formatDuration(r)}</td>`)}</tr>
    <tr class="section"><th colspan="${d.runs.length + 1}">Parameters</th></tr>
    ${paramKeys.map((k) => {
      const values = d.runs.map((r) => r.data.params[k]);
      return html`<tr class="${differs(values) ? 'diff' : ''}"><th>${k}</th>${values.map((v) => html`<td>${v ?? '—'}</td>`)}</tr>`;
    })}
    <tr class="section"><th colspan="${d.runs.length + 1}">Metrics (latest)</th></tr>
    ${metricKeys.map((k) => {
      const values = d.runs.map((r) => r.data.metrics[k]?.value);
      return html`<tr class="${differs(values.map(String)) ? 'diff' : ''}"><th>${k}</th>${values.map((v) => html`<td class="num">${v === undefined ? '—' : formatNumber(v)}</td>`)}</tr>`;
    })}
  </tbody>
</table>
</div>
<h2>Metric curves</h2>
<div class="charts">${metricKeys.map((k) =>
      raw(
        lineChart(
          d.runs.map((r, i) => ({ label: r.info.runName, points: (d.histories[i][k] ?? []).map((m) => [m.step, m.value]) })),
          { title: k },
        ),
      ),
    )}</div>`,
  );
}

export function modelsPage(models: ModelWithVersions[]): Html {
  return layout(
    'Models',
    'models',
    html`<h1>Model registry</h1>
${models.length === 0 ? html`<p class="empty">No registered models yet. Register a run's bundle with <code>lockstep models register</code> or <code>tracker.registerModel()</code>.</p>` : ''}
${models.map(
  (m) => html`<section class="model" id="${m.name}">
  <h2>${m.name} ${Object.keys(m.aliases)
    .sort()
    .map((a) => html`<span class="alias">@${a} → v${m.aliases[a]}</span> `)}</h2>
  ${m.description ? html`<p>${m.description}</p>` : ''}
  <table class="list versions">
    <thead><tr><th>Version</th><th>Aliases</th><th>Registered</th><th>Run</th><th>Source</th><th>Status</th><th>Description</th></tr></thead>
    <tbody>${m.versions.map(
      (v) => html`<tr data-version="${v.version}">
      <td>v${v.version}</td><td>${aliasBadges(v.aliases)}</td><td>${formatTime(v.creationTimestamp)}</td>
      <td>${v.runId ? html`<a href="/runs/${v.runId}"><code>${v.runId.slice(0, 8)}</code></a>` : '—'}</td>
      <td><code>${v.source}</code></td><td>${v.status}</td><td>${v.description}</td></tr>`,
    )}</tbody>
  </table>
</section>`,
)}`,
  );
}
