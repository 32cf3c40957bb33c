// The side-by-side view of one finger comparison (a POST /v1/compare
// answer, or the `explain` of an identify answer): probe left, gallery
// right, each over its image when there is one or a blank canvas, paired
// minutiae joined by lines across the two panels, unpaired ones marked
// with hollow squares. Everything is SVG built with DOM calls.

import { el, fmrWords, num, positionName } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const GAP_PX = 40;
const TICK_PX = 12;

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    node.setAttribute(name, String(value));
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const key = (p) => `${Math.round(p.x_px * 10)},${Math.round(p.y_px * 10)}`;

function minutiaMark(m, paired, side) {
  const g = svg("g", {
    class: `minutia ${paired ? "paired" : "unpaired"}`,
    "data-side": side,
  });
  // ISO angles run counter-clockwise as seen on the image, y pointing down.
  const a = Number(m.angle_rad) || 0;
  const x2 = m.x_px + Math.cos(a) * TICK_PX;
  const y2 = m.y_px - Math.sin(a) * TICK_PX;
  g.append(svg("line", { x1: m.x_px, y1: m.y_px, x2, y2, class: "tick" }));
  if (paired) {
    g.append(svg("circle", { cx: m.x_px, cy: m.y_px, r: 4.5 }));
  } else {
    g.append(svg("rect", { x: m.x_px - 4, y: m.y_px - 4, width: 8, height: 8 }));
  }
  g.append(svg("title", {}, `${m.kind || "minutia"} at ${num(m.x_px, 0)}, ${num(m.y_px, 0)}${paired ? ", paired" : ", unpaired"}`));
  return g;
}

function panel(sample, imageUrl, offsetX, side, pairedKeys, title) {
  const w = Number(sample.width_px) || 300;
  const h = Number(sample.height_px) || 400;
  const g = svg("g", { transform: `translate(${offsetX} 0)`, class: `panel ${side}` });
  g.append(svg("rect", { x: 0, y: 0, width: w, height: h, class: "canvas" }));
  if (imageUrl) {
    g.append(svg("image", { href: imageUrl, x: 0, y: 0, width: w, height: h, preserveAspectRatio: "none" }));
  }
  g.append(svg("title", {}, title));
  for (const m of sample.minutiae || []) {
    g.append(minutiaMark(m, pairedKeys.has(key(m)), side));
  }
  return { node: g, w, h };
}

// Renders one comparison. `result` has probe, gallery, pairs, score,
// fmr_estimate; `opts` the image URLs (blob: URLs or null) and titles.
export function comparisonView(result, opts) {
  const pairs = result.pairs || [];
  const probeKeys = new Set(pairs.map((p) => key(p.probe)));
  const galleryKeys = new Set(pairs.map((p) => key(p.gallery)));
  const left = panel(result.probe, opts.probeImageUrl, 0, "probe", probeKeys, opts.probeTitle);
  const rightX = left.w + GAP_PX;
  const right = panel(result.gallery, opts.galleryImageUrl, rightX, "gallery", galleryKeys, opts.galleryTitle);
  const width = rightX + right.w;
  const height = Math.max(left.h, right.h);

  const lines = svg("g", { class: "pair-lines" });
  for (const p of pairs) {
    lines.append(
      svg("line", {
        class: "pair-line",
        x1: p.probe.x_px,
        y1: p.probe.y_px,
        x2: rightX + p.gallery.x_px,
        y2: p.gallery.y_px,
      }),
    );
  }
  const drawing = svg(
    "svg",
    {
      class: "comparison",
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-label": `${opts.probeTitle} beside ${opts.galleryTitle}: ${pairs.length} paired minutiae`,
      "data-pairs": pairs.length,
      "data-probe-minutiae": (result.probe.minutiae || []).length,
      "data-gallery-minutiae": (result.gallery.minutiae || []).length,
    },
    left.node,
    right.node,
    lines,
  );

  const zoomId = `zoom-${Math.random().toString(36).slice(2)}`;
  const linesId = `${zoomId}-lines`;
  // Start at the largest step that fits a wide screen without scrolling.
  const fit = Math.max(50, Math.min(200, Math.floor((1150 / width) * 4) * 25));
  const zoom = el("input", { type: "range", id: zoomId, min: 50, max: 400, step: 25, value: fit });
  const zoomValue = el("output", { for: zoomId });
  const applyZoom = () => {
    const f = Number(zoom.value) / 100;
    drawing.setAttribute("width", String(Math.round(width * f)));
    drawing.setAttribute("height", String(Math.round(height * f)));
    zoomValue.textContent = `${zoom.value}%`;
  };
  zoom.addEventListener("input", applyZoom);
  const showLines = el("input", { type: "checkbox", id: linesId, checked: true });
  showLines.addEventListener("change", () => {
    lines.classList.toggle("hidden", !showLines.checked);
  });

  const evidence = Number.isFinite(result.fmr_estimate) && result.fmr_estimate > 0
    ? -Math.log10(result.fmr_estimate)
    : Number(result.log10_fmr);
  const summary = el(
    "p",
    { class: "compare-summary" },
    el("strong", {}, `score ${num(result.score, 1)}`),
    ` · ${result.paired ?? pairs.length} paired minutiae · ${fmrWords(evidence)}`,
    result.alignment
      ? ` · rotation ${num((result.alignment.rotation_rad * 180) / Math.PI, 1)}°, shift ${num(result.alignment.dx_px, 0)}, ${num(result.alignment.dy_px, 0)} px`
      : "",
  );
  const block = el(
    "section",
    { class: "comparison-block", "aria-label": opts.heading },
    el("h3", {}, opts.heading),
    summary,
    el(
      "div",
      { class: "controls" },
      el("label", { for: zoomId }, "Zoom"),
      zoom,
      zoomValue,
      showLines,
      el("label", { for: linesId }, "Lines between paired minutiae"),
    ),
    el(
      "p",
      { class: "legend" },
      el("span", { class: "key paired" }, "●"),
      " paired  ",
      el("span", { class: "key unpaired" }, "□"),
      " unpaired  ",
      `probe ${result.probe.minutiae ? result.probe.minutiae.length : 0} minutiae, gallery ${result.gallery.minutiae ? result.gallery.minutiae.length : 0}`,
    ),
    el("div", { class: "scroll" }, drawing),
  );
  applyZoom();
  return block;
}

export function fingerHeading(position, galleryPosition) {
  if (galleryPosition === undefined || galleryPosition === position) return positionName(position);
  return `${positionName(position)} against ${positionName(galleryPosition)}`;
}
