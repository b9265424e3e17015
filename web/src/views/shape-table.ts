import type { NetSpec } from '../shared/protocol.js';
import { formatBytes, formatCount, formatMetric } from '../net/analysis.js';
import { netSummary } from '../net/net-spec.js';
import { fill, h } from '../render/dom.js';

/**
 * The editor's live table, one row per layer: output volume, activations (values and float32
 * memory for one image), parameters and multiply-adds, as convkit's summary counts them; the
 * totals give memory for one image and for a training batch (forward + backward).
 */
export class ShapeTable {
  readonly el = h('div', { class: 'shape-table', id: 'shape-table' });

  update(net: NetSpec | null, batch: number): void {
    if (!net) {
      fill(this.el, h('p', { class: 'muted' }, 'no valid network'));
      return;
    }
    const r = netSummary(net, batch);
    const t = r.totals;
    const rows = r.rows.map((row) =>
      h(
        'tr',
        { class: row.counted ? '' : 'in-place', dataset: { path: row.path, volume: row.volume } },
        h('td', {}, row.path),
        h('td', {}, row.label),
        h('td', { class: 'volume' }, row.volume),
        h('td', { class: 'num' }, formatCount(row.activations)),
        h('td', { class: 'num', title: row.counted ? '' : 'in place (a view or an overwrite): no new memory' }, row.counted ? formatBytes(4 * row.activations) : 'in place'),
        h('td', { class: 'num' }, row.params ? formatCount(row.params) : ''),
        h('td', { class: 'num' }, row.macs ? formatMetric(row.macs) : ''),
      ),
    );
    fill(
      this.el,
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ['#', 'layer', 'output', 'activations', 'memory', 'params', 'MACs'].map((c) => h('th', {}, c)))),
        h('tbody', {}, h('tr', {}, h('td', {}, ''), h('td', {}, 'INPUT'), h('td', { class: 'volume' }, r.inputVolume), h('td', { class: 'num' }, formatCount(r.inputActivations)), h('td', { class: 'num' }, formatBytes(4 * r.inputActivations)), h('td', {}, ''), h('td', {}, '')), rows),
      ),
      h(
        'p',
        { class: 'totals', id: 'net-totals', dataset: { params: t.params } },
        `parameters ${formatCount(t.params)} (${formatBytes(t.paramBytes.float32)}) · activations per image ${formatCount(t.activations)} (${formatBytes(t.activationBytes.float32)}) · ` +
          `training batch of ${batch}, forward + backward: ${formatBytes(batch * t.activationBytesForwardBackward.float32)} · ${formatMetric(t.flops)}FLOPs per image`,
      ),
    );
  }
}
