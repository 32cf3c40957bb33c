// Small helpers shared by the console's pages: building DOM from data (text
// only, never markup), calling the /v1 API with the signed-in key, and
// wording scores.

// The key lives in sessionStorage only: it survives a reload of this tab
// and is gone when the tab closes or the user signs out. Never in
// localStorage, a URL or a log.
const KEY_SLOT = "hoviyat.console.key";

export const session = {
  key() {
    return sessionStorage.getItem(KEY_SLOT);
  },
  setKey(key) {
    sessionStorage.setItem(KEY_SLOT, key);
  },
  clear() {
    sessionStorage.removeItem(KEY_SLOT);
    session.whoami = null;
  },
  whoami: null,
  has(role) {
    return Boolean(session.whoami && session.whoami.roles.includes(role));
  },
  hasAny(roles) {
    return roles.some((r) => session.has(r));
  },
};

// el("p", {class: "x"}, "text", child, ...): strings become text nodes.
// Attribute values are set with setAttribute, so no value is ever parsed
// as markup.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) {
      node.addEventListener(name.slice(2), value);
    } else if (value === true) {
      node.setAttribute(name, "");
    } else {
      node.setAttribute(name, String(value));
    }
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

let nextId = 0;
// A unique id for pairing a <label> with its control.
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// A control with its <label>, in one block.
export function field(labelText, control) {
  if (!control.id) control.id = uid("f");
  return el("div", { class: "field" }, el("label", { for: control.id }, labelText), control);
}

// An error the service answered: status, code, message and field.
export class ApiFailure extends Error {
  constructor(status, body) {
    const err = body && typeof body === "object" ? body : {};
    super(err.message || `the service answered ${status}`);
    this.status = status;
    this.code = err.error || "error";
    this.field = err.field || null;
  }
}

// Calls the API with the signed-in key. Resolves to parsed JSON (or a Blob
// when `as` is "blob"); rejects with ApiFailure.
export async function api(method, path, body, as) {
  const headers = { Authorization: `Bearer ${session.key() || ""}` };
  const init = { method, headers, credentials: "omit", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new ApiFailure(0, { error: "network", message: `the service could not be reached (${e.message})` });
  }
  if (!resp.ok) {
    let parsed = null;
    try {
      parsed = await resp.json();
    } catch {
      parsed = null;
    }
    throw new ApiFailure(resp.status, parsed);
  }
  if (as === "blob") return resp.blob();
  return resp.json();
}

// An error box naming the service's message and the offending field.
export function errorBox(error) {
  const box = el("div", { class: "error", role: "alert" });
  if (error instanceof ApiFailure) {
    append(box, [el("strong", {}, `${error.message}`)]);
    const details = [`code ${error.code}`];
    if (error.status) details.unshift(`HTTP ${error.status}`);
    if (error.field) details.push(`field ${error.field}`);
    append(box, [el("div", { class: "error-detail" }, details.join(" · "))]);
  } else {
    append(box, [el("strong", {}, String(error && error.message ? error.message : error))]);
  }
  return box;
}

// Runs `work` with `button` disabled and showing `busyText` and a spinner.
export async function busy(button, busyText, work) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.replaceChildren(el("span", { class: "spinner", "aria-hidden": "true" }), busyText);
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}

export const POSITIONS = [
  "unknown",
  "right thumb",
  "right index",
  "right middle",
  "right ring",
  "right little",
  "left thumb",
  "left index",
  "left middle",
  "left ring",
  "left little",
];

export function positionName(code) {
  return POSITIONS[code] === undefined ? `position ${code}` : `${POSITIONS[code]} (${code})`;
}

// Evidence is -log10 of the estimated false-match rate. Said in words:
// how many impostors reach a score this high.
export function fmrWords(evidence) {
  if (!Number.isFinite(evidence)) return "no estimate";
  if (evidence <= 0.3) return "most impostors score this high";
  if (evidence > 12) return "fewer than 1 in a trillion impostors score this high";
  const n = 10 ** evidence;
  const digits = Math.floor(Math.log10(n));
  const step = 10 ** Math.max(0, digits - 1);
  const rounded = Math.round(n / step) * step;
  return `about 1 in ${rounded.toLocaleString("en-US")} impostors score this high`;
}

export function num(x, digits) {
  return Number.isFinite(x) ? x.toFixed(digits) : "—";
}

export function when(ts) {
  if (!ts) return "—";
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? String(ts) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

// A two-column table of label/value pairs.
export function facts(rows) {
  return el(
    "dl",
    { class: "facts" },
    rows.filter(Boolean).map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]),
  );
}

// Reads a File as base64 (standard alphabet, no data: prefix).
export function fileBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(new Error(`could not read ${file.name}`));
    reader.onload = () => {
      const s = String(reader.result);
      resolve(s.slice(s.indexOf(",") + 1));
    };
    reader.readAsDataURL(file);
  });
}
