// Maps: Leaflet over the tile server the operator configured (`web.tile_url`, given to the
// page in <meta name="ordo-tile-url">), or over a plain background when none is set, so
// that the apps work offline and nothing is fetched from third parties unasked.

import * as L from '../vendor/leaflet/leaflet.js';
import { useEffect, useRef } from '../vendor/preact/hooks.js';
import { html } from './ui.js';

const tileUrl = document.querySelector('meta[name="ordo-tile-url"]')?.content ?? '';

function dot(className) {
  return L.divIcon({ className: `dot ${className}`, iconSize: [18, 18] });
}

/**
 * A map showing `points` ({lat, lon, label, kind}), fitted to them; `kind` styles the dot
 * (merchant, customer, courier, idle). `label` names the map for screen readers. With
 * `fitOnce`, the map is fitted to the first points only, so that a map refreshed while
 * someone pans it stays where they put it. With `labelled`, each dot shows its point's
 * `tag` (or `label`) beside it, for maps of a few points that must be told apart at a glance.
 */
export function MapView({ points, label, fitOnce = false, labelled = false }) {
  const element = useRef(null);
  const state = useRef(null);
  useEffect(() => {
    const map = L.map(element.current, { zoomControl: true, attributionControl: Boolean(tileUrl) });
    if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(map);
    state.current = { map, layer: L.layerGroup().addTo(map), fitted: false };
    return () => map.remove();
  }, []);
  useEffect(() => {
    const { map, layer, fitted } = state.current;
    layer.clearLayers();
    const shown = points.filter((p) => Number.isFinite(p.lat) && Number.isFinite(p.lon));
    for (const p of shown) {
      const marker = L.marker([p.lat, p.lon], { icon: dot(p.kind ?? ''), title: p.label, alt: p.label }).addTo(layer);
      if (labelled) marker.bindTooltip(p.tag ?? p.label, { permanent: true, direction: 'right', offset: [10, 0] });
    }
    if (fitOnce && fitted) return;
    state.current.fitted = shown.length > 0;
    if (shown.length === 1) map.setView([shown[0].lat, shown[0].lon], 14);
    else if (shown.length > 1) map.fitBounds(L.latLngBounds(shown.map((p) => [p.lat, p.lon])), { padding: [24, 24], maxZoom: 15 });
  }, [JSON.stringify(points), labelled]);
  return html`<div class="map" ref=${element} role="region" aria-label=${label}></div>`;
}
