// Line charts (uPlot) that follow their data and their container's width.

import { useEffect, useRef } from '../vendor/preact/hooks.js';
import uPlot from '../vendor/uplot/uplot.js';
import { html } from '../shared/ui.js';

const COLOURS = ['#0b5cad', '#17663a', '#b3261e', '#8a5300'];

/**
 * A time series chart: `times` in seconds, `series` as [{label, values}], described for
 * screen readers by `label`; `caption` says what it shows.
 */
export function LineChart({ label, caption, times, series, unit }) {
  const element = useRef(null);
  const chart = useRef(null);
  const data = [times, ...series.map((s) => s.values)];
  useEffect(() => {
    if (!chart.current) {
      chart.current = new uPlot({
        width: Math.max(280, element.current.clientWidth),
        height: 200,
        series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2 }))],
        axes: [{}, { label: unit, size: 60 }],
      }, data, element.current);
    } else {
      chart.current.setData(data);
    }
  }, [JSON.stringify(data)]);
  useEffect(() => {
    // The chart is drawn at a width in pixels: follow the panel when the window changes.
    const resized = new ResizeObserver(() => chart.current?.setSize({
      width: Math.max(280, element.current.clientWidth), height: 200,
    }));
    resized.observe(element.current);
    return () => {
      resized.disconnect();
      chart.current?.destroy();
    };
  }, []);
  return html`<figure class="chart"><div ref=${element} role="img" aria-label=${label}></div>
    <figcaption class="muted">${caption}</figcaption></figure>`;
}
