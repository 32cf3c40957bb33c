// The console's pages and hash router. Every value that comes from the
// service or the user is put into the page as text (see dom.js: el()).

import {
  api,
  append,
  busy,
  clear,
  el,
  errorBox,
  facts,
  field,
  fileBase64,
  fmrWords,
  num,
  POSITIONS,
  positionName,
  session,
  uid,
  when,
} from "./dom.js";
import { comparisonView, fingerHeading } from "./compare.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const signOutButton = document.getElementById("signout");

const ALL_ROLES = ["enroller", "investigator", "adjudicator", "admin"];

// Pages in the navigation, and who may see them.
const PAGES = [
  { route: "search", title: "Search", roles: ["investigator"] },
  { route: "queue", title: "Adjudication queue", roles: ["adjudicator", "admin"] },
  { route: "lookup", title: "Enrollment lookup", roles: ALL_ROLES },
  { route: "admin", title: "Admin", roles: ["admin"] },
];

// What the pages keep between routes, in memory only.
const memory = {
  searchPage: null, // the search page's DOM, kept with its form values
  compare: null, // the comparison to show on #/compare
  blobUrls: [], // object URLs to revoke on sign-out
  galleryImages: new Map(), // "ref\u0000pos" -> blob URL
};

function blobUrl(blob) {
  const url = URL.createObjectURL(blob);
  memory.blobUrls.push(url);
  return url;
}

// ---------------------------------------------------------------- shell

function page(title, ...children) {
  const h1 = el("h1", { tabindex: "-1" }, title);
  clear(main).append(h1);
  append(main, children);
  h1.focus();
  document.title = `${title} · Hoviyat console`;
  return main;
}

function renderShell() {
  clear(nav);
  const signedIn = Boolean(session.whoami);
  nav.hidden = !signedIn;
  signOutButton.hidden = !signedIn;
  who.textContent = signedIn
    ? `${session.whoami.name || "key"} (${session.whoami.key_id}) · ${session.whoami.roles.join(", ")}`
    : "";
  if (!signedIn) return;
  const current = currentRoute().name;
  for (const p of PAGES) {
    if (!session.hasAny(p.roles)) continue;
    const link = el("a", { href: `#/${p.route}`, "data-page": p.route }, p.title);
    if (p.route === current) link.setAttribute("aria-current", "page");
    nav.append(link);
  }
}

function currentRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  const name = parts[0] || "";
  const arg = parts.length > 1 ? decodeURIComponent(parts.slice(1).join("/")) : null;
  return { name, arg };
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function firstPage() {
  const p = PAGES.find((pg) => session.hasAny(pg.roles));
  return p ? `#/${p.route}` : "#/lookup";
}

async function route() {
  if (!session.key()) {
    session.whoami = null;
    renderShell();
    signInPage();
    return;
  }
  if (!session.whoami) {
    try {
      session.whoami = await api("GET", "/v1/whoami");
    } catch (e) {
      session.clear();
      renderShell();
      signInPage(e);
      return;
    }
  }
  const { name, arg } = currentRoute();
  renderShell();
  const pg = PAGES.find((p) => p.route === name);
  if (pg && !session.hasAny(pg.roles)) {
    page("Not available", el("p", {}, `Your key does not hold a role for ${pg.title}.`));
    return;
  }
  switch (name) {
    case "search":
      return searchPage();
    case "compare":
      return comparePage();
    case "queue":
      return arg === null ? queuePage() : enrollmentPage(arg, "#/queue");
    case "lookup":
      return lookupPage(arg);
    case "admin":
      return adminPage();
    default:
      location.replace(firstPage());
      return undefined;
  }
}

function signOut() {
  session.clear();
  for (const url of memory.blobUrls) URL.revokeObjectURL(url);
  memory.blobUrls = [];
  memory.galleryImages.clear();
  memory.searchPage = null;
  memory.compare = null;
  history.replaceState(null, "", "#/signin");
  route();
}

// ---------------------------------------------------------------- sign in

function signInPage(error) {
  const input = el("input", {
    type: "password",
    name: "key",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    id: "api-key",
  });
  const button = el("button", { type: "submit", id: "signin" }, "Sign in");
  const status = el("div", { class: "status", "aria-live": "polite" });
  if (error) status.append(errorBox(error));
  const form = el(
    "form",
    { class: "card narrow", id: "signin-form" },
    el("p", {}, "Sign in with your API key. It is kept for this browser tab only and forgotten when you sign out or close the tab."),
    field("API key", input),
    button,
    status,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clear(status);
    const key = input.value.trim();
    if (!key) return;
    await busy(button, "Signing in…", async () => {
      session.setKey(key);
      try {
        session.whoami = await api("GET", "/v1/whoami");
      } catch (e) {
        session.clear();
        status.append(errorBox(e));
        return;
      }
      input.value = "";
      go(firstPage());
    });
  });
  page("Sign in", form);
  input.focus();
}

// ---------------------------------------------------------------- search

const IMAGE_MAGIC = [
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x42, 0x4d], // BMP
  [0x49, 0x49, 0x2a, 0x00], // TIFF, little-endian
  [0x4d, 0x4d, 0x00, 0x2a], // TIFF, big-endian
];

async function isImageFile(file) {
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  return IMAGE_MAGIC.some((magic) => magic.every((b, i) => head[i] === b));
}

function dropTarget(zone, input) {
  zone.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (ev) => {
    ev.preventDefault();
    zone.classList.remove("over");
    if (ev.dataTransfer && ev.dataTransfer.files.length > 0) {
      input.files = ev.dataTransfer.files;
      input.dispatchEvent(new Event("change"));
    }
  });
}

function searchPage() {
  if (memory.searchPage) {
    page("Search", memory.searchPage);
    return;
  }
  const fingerFile = el("input", { type: "file", id: "probe-file", name: "probe-file" });
  const fingerInfo = el("p", { class: "hint", "aria-live": "polite" }, "PNG, JPEG, TIFF or BMP image, or an ISO/IEC 19794-2 or ANSI 378 template.");
  const position = el("select", { id: "probe-position", name: "position" });
  POSITIONS.forEach((name, code) => {
    position.append(el("option", { value: code }, code === 0 ? "unknown (compare with every finger)" : `${name} (${code})`));
  });
  const dpi = el("input", { type: "number", id: "probe-dpi", min: 100, max: 2000, value: 500, name: "dpi" });
  const faceFile = el("input", { type: "file", id: "face-file", accept: ".json,application/json", name: "face-file" });
  const mode = el(
    "select",
    { id: "mode", name: "mode" },
    el("option", { value: "investigation" }, "Investigation: a ranked list"),
    el("option", { value: "identification" }, "Identification: only candidates above the threshold"),
  );
  const listLength = el("input", { type: "number", id: "max-candidates", min: 1, max: 1000, value: 20, name: "max_candidates" });
  const restrict = el("textarea", { id: "restrict", rows: 2, name: "restrict", placeholder: "one reference id per line" });
  const button = el("button", { type: "submit", id: "search" }, "Search");
  const status = el("div", { class: "status", "aria-live": "polite" });
  const results = el("div", { id: "results" });
  let searches = 0;

  const fingerZone = el(
    "fieldset",
    { class: "drop" },
    el("legend", {}, "Finger (drop a file here or choose one)"),
    field("Fingerprint image or template", fingerFile),
    fingerInfo,
    el("div", { class: "row" }, field("Finger position", position), field("Resolution (dpi)", dpi)),
  );
  dropTarget(fingerZone, fingerFile);
  fingerFile.addEventListener("change", async () => {
    const f = fingerFile.files[0];
    if (!f) return;
    fingerInfo.textContent = `${f.name}: ${(await isImageFile(f)) ? "image" : "template"}, ${f.size.toLocaleString("en-US")} bytes`;
  });
  const faceZone = el(
    "fieldset",
    { class: "drop" },
    el("legend", {}, "Face (optional)"),
    field("Face template (JSON: model, values)", faceFile),
  );
  dropTarget(faceZone, faceFile);

  const form = el(
    "form",
    { class: "card", id: "search-form" },
    el("div", { class: "row fieldsets" }, fingerZone, faceZone),
    el("div", { class: "row" }, field("Mode", mode), field("List length", listLength), field("Only these reference ids (optional)", restrict)),
    button,
    status,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clear(status);
    await busy(button, "Searching…", async () => {
      try {
        const probe = await readProbe(fingerFile.files[0], Number(position.value), Number(dpi.value), faceFile.files[0]);
        const body = { fingers: probe.fingers, mode: mode.value, explain: true };
        if (probe.face) body.face = probe.face;
        if (mode.value === "investigation") body.max_candidates = Number(listLength.value);
        const ids = restrict.value.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
        if (ids.length > 0) body.restrict_to = ids;
        const answer = await api("POST", "/v1/identify", body);
        memory.search = { probe, answer };
        clear(results).append(candidateTable(answer, probe));
        searches += 1;
        results.setAttribute("data-searches", String(searches));
      } catch (e) {
        status.append(errorBox(e));
      }
    });
  });
  memory.searchPage = el("div", {}, form, results);
  page("Search", memory.searchPage);
}

async function readProbe(fingerFile, position, dpi, faceFile) {
  const probe = { fingers: [], face: null, imageUrl: null, fileName: null };
  if (fingerFile) {
    const data = await fileBase64(fingerFile);
    probe.fileName = fingerFile.name;
    if (await isImageFile(fingerFile)) {
      probe.fingers.push({ position, image: { data, dpi } });
      probe.imageUrl = blobUrl(fingerFile);
    } else {
      probe.fingers.push({ position, template: { data } });
    }
  }
  if (faceFile) {
    let parsed;
    try {
      parsed = JSON.parse(await faceFile.text());
    } catch (e) {
      throw new Error(`${faceFile.name} is not JSON: ${e.message}`);
    }
    probe.face = parsed && parsed.face ? parsed.face : parsed;
  }
  if (probe.fingers.length === 0 && !probe.face) {
    throw new Error("Choose a fingerprint image, a template or a face template first.");
  }
  return probe;
}

function fingerScores(fingers) {
  if (!fingers || fingers.length === 0) return "—";
  return el(
    "ul",
    { class: "plain" },
    fingers.map((f) => el("li", {}, `${positionName(f.position)}: ${num(f.evidence, 1)} (raw ${num(f.raw, 1)})`)),
  );
}

function faceScore(face) {
  return face ? `${num(face.evidence, 1)} (cosine ${num(face.cosine, 3)})` : "—";
}

function candidateTable(answer, probe) {
  const rows = answer.candidates.map((c) => {
    const compare = el("button", { type: "button", class: "compare", "aria-label": `Compare with ${c.reference_id}` }, "Compare");
    compare.addEventListener("click", () => {
      memory.compare = searchComparison(probe, c);
      go("#/compare");
    });
    return el(
      "tr",
      { class: "candidate", "data-reference-id": c.reference_id, "data-rank": c.rank },
      el("td", {}, String(c.rank)),
      el("td", { class: "ref" }, c.reference_id),
      el("td", { class: "num" }, num(c.score, 1)),
      el("td", {}, fmrWords(c.score)),
      el("td", {}, fingerScores(c.fingers)),
      el("td", {}, faceScore(c.face)),
      el("td", {}, compare),
    );
  });
  const caption = `${answer.candidates.length} candidate${answer.candidates.length === 1 ? "" : "s"} from a gallery of ${answer.gallery_size}` +
    (answer.threshold !== undefined ? `, threshold ${num(answer.threshold, 1)}` : "");
  if (rows.length === 0) {
    return el("p", { class: "empty", id: "no-candidates" }, `No candidates (${caption}).`);
  }
  return el(
    "table",
    { class: "candidates" },
    el("caption", {}, caption, el("div", { class: "hint" }, "Scores are evidence: -log10 of the estimated false-match rate; higher is stronger.")),
    el(
      "thead",
      {},
      el("tr", {}, ["Rank", "Reference id", "Fused score", "What it means", "Fingers", "Face", ""].map((h) => el("th", { scope: "col" }, h))),
    ),
    el("tbody", {}, rows),
  );
}

// The comparison of a search probe with one candidate, per finger.
function searchComparison(probe, candidate) {
  const finger = probe.fingers[0];
  const pairsOf = (candidate.fingers || []).map((f) => {
    const galleryPosition = f.explain && f.explain.gallery ? f.explain.gallery.position : f.position;
    return {
      heading: fingerHeading(finger ? finger.position : f.position, galleryPosition),
      probe: finger,
      gallery: { reference_id: candidate.reference_id, position: galleryPosition },
      probeImageUrl: probe.imageUrl,
      probeTitle: `probe (${probe.fileName || "file"})`,
    };
  });
  return {
    title: `Probe against ${candidate.reference_id}`,
    back: "#/search",
    backText: "Back to the results",
    probeLabel: probe.fileName || "probe",
    galleryId: candidate.reference_id,
    score: candidate.score,
    face: candidate.face,
    fingers: finger ? pairsOf : [],
  };
}

// ---------------------------------------------------------------- compare

async function galleryImage(referenceId, position) {
  const k = `${referenceId}\u0000${position}`;
  if (!memory.galleryImages.has(k)) {
    const path = `/v1/enrollments/${encodeURIComponent(referenceId)}/fingers/${position}/image`;
    memory.galleryImages.set(k, blobUrl(await api("GET", path, undefined, "blob")));
  }
  return memory.galleryImages.get(k);
}

async function comparePage() {
  const job = memory.compare;
  if (!job) {
    page("Compare", el("p", {}, "Nothing to compare yet: open a candidate from a search or from the adjudication queue."));
    return;
  }
  const back = el("a", { href: job.back, class: "back" }, job.backText);
  const summary = facts([
    ["Probe", job.probeLabel],
    ["Candidate", job.galleryId],
    job.score !== undefined ? ["Fused score", `${num(job.score, 1)}: ${fmrWords(job.score)}`] : null,
    ["Face", job.face ? `${faceScore(job.face)}: ${fmrWords(job.face.evidence)}` : "no face score"],
  ]);
  const fingers = el("div", { id: "comparisons", "aria-live": "polite" });
  page(job.title, back, el("div", { class: "card" }, summary), fingers);
  if (job.fingers.length === 0) {
    fingers.append(el("p", {}, "No finger scores to show."));
    return;
  }
  for (const f of job.fingers) {
    const slot = el("div", { class: "comparison-slot" }, el("p", { class: "loading" }, el("span", { class: "spinner", "aria-hidden": "true" }), `Comparing ${f.heading}…`));
    fingers.append(slot);
  }
  // One at a time: the service bounds concurrent matching anyway.
  for (const [i, f] of job.fingers.entries()) {
    const slot = fingers.children[i];
    try {
      const result = await api("POST", "/v1/compare", { probe: f.probe, gallery: f.gallery });
      // Only a kept image is asked for (each read is audited); without one
      // the minutiae are drawn on a blank canvas.
      const galleryUrl = result.gallery.has_image
        ? await galleryImage(f.gallery.reference_id, result.gallery.position ?? f.gallery.position).catch(() => null)
        : null;
      let probeUrl = f.probeImageUrl || null;
      if (!probeUrl && f.probe.reference_id !== undefined) {
        probeUrl = await galleryImage(f.probe.reference_id, f.probe.position).catch(() => null);
      }
      clear(slot).append(
        comparisonView(result, {
          heading: f.heading,
          probeImageUrl: probeUrl,
          galleryImageUrl: galleryUrl,
          probeTitle: f.probeTitle,
          galleryTitle: `${f.gallery.reference_id}, ${positionName(result.gallery.position ?? f.gallery.position)}`,
        }),
      );
    } catch (e) {
      clear(slot).append(el("h3", {}, f.heading), errorBox(e));
    }
  }
}

// ---------------------------------------------------------------- queue

async function queuePage() {
  const list = el("div", { id: "queue" });
  const more = el("button", { type: "button", id: "queue-more", hidden: true }, "Load more");
  const status = el("div", { class: "status", "aria-live": "polite" });
  page("Adjudication queue", el("p", {}, "Enrollments held as potential duplicates, oldest first."), status, list, more);
  const tbody = el("tbody", {});
  let cursor = null;
  const load = async () => {
    let q = "/v1/enrollments?status=potential_duplicate&limit=25";
    if (cursor) q += `&after=${encodeURIComponent(cursor)}`;
    const answer = await api("GET", q);
    for (const e of answer.enrollments) {
      const open = el("a", { href: `#/queue/${encodeURIComponent(e.reference_id)}`, class: "open", "aria-label": `Open ${e.reference_id}` }, "Open");
      tbody.append(
        el(
          "tr",
          { class: "held", "data-reference-id": e.reference_id },
          el("td", { class: "ref" }, e.reference_id),
          el("td", { class: "when" }, when(e.decided_at)),
          el(
            "td",
            {},
            el("ul", { class: "plain" }, (e.candidates || []).map((c) => el("li", {}, el("span", { class: "ref" }, c.reference_id), ` ${num(c.score, 1)}`))),
          ),
          el("td", {}, open),
        ),
      );
    }
    cursor = answer.next || null;
    more.hidden = !cursor;
    if (tbody.children.length === 0) {
      clear(list).append(el("p", { class: "empty" }, "No enrollment is waiting for a decision."));
    } else if (!list.firstChild || list.firstChild.tagName !== "TABLE") {
      clear(list).append(
        el(
          "table",
          { class: "queue" },
          el("thead", {}, el("tr", {}, ["Reference id", "Held since", "Candidates (score)", ""].map((h) => el("th", { scope: "col" }, h)))),
          tbody,
        ),
      );
    }
  };
  more.addEventListener("click", () =>
    busy(more, "Loading…", () => load().catch((e) => clear(status).append(errorBox(e)))),
  );
  list.append(el("p", { class: "loading" }, el("span", { class: "spinner", "aria-hidden": "true" }), "Loading…"));
  try {
    await load();
  } catch (e) {
    clear(list);
    status.append(errorBox(e));
  }
}

// ---------------------------------------------------------------- enrollment

function historyList(e) {
  const items = [];
  const held = e.adjudication || e.status === "potential_duplicate" || e.status === "confirmed_duplicate" || e.candidate_count > 0;
  items.push([
    e.decided_at,
    held
      ? `Enrolled and held as a potential duplicate (${e.candidate_count} candidate${e.candidate_count === 1 ? "" : "s"}, gallery of ${e.gallery_size})`
      : `Enrolled and cleared (gallery of ${e.gallery_size})`,
  ]);
  if (e.adjudication) {
    const a = e.adjudication;
    items.push([a.at, `Adjudicated ${a.verdict} by ${a.by}${a.comment ? `: “${a.comment}”` : ""}`]);
  }
  if (e.deleted_at) items.push([e.deleted_at, "Deleted"]);
  return el("ol", { class: "history" }, items.map(([at, text]) => el("li", {}, el("time", {}, when(at)), " ", text)));
}

const STATUS_WORDS = {
  cleared: "cleared",
  potential_duplicate: "held: potential duplicate",
  confirmed_duplicate: "confirmed duplicate",
  deleted: "deleted",
};

async function enrollmentPage(referenceId, back) {
  const status = el("div", { class: "status", "aria-live": "polite" });
  const body = el("div", { id: "enrollment", "data-reference-id": referenceId });
  page(
    back === "#/queue" ? "Held enrollment" : "Enrollment",
    back ? el("a", { href: back, class: "back" }, back === "#/queue" ? "Back to the queue" : "Back") : null,
    status,
    body,
  );
  body.append(el("p", { class: "loading" }, el("span", { class: "spinner", "aria-hidden": "true" }), "Loading…"));
  let e;
  try {
    e = await api("GET", `/v1/enrollments/${encodeURIComponent(referenceId)}`);
  } catch (err) {
    clear(body);
    status.append(errorBox(err));
    return;
  }
  renderEnrollment(body, e, back);
}

function renderEnrollment(body, e, back) {
  clear(body);
  body.setAttribute("data-status", e.status);
  body.append(
    el(
      "section",
      { class: "card" },
      el("h2", { class: "ref" }, e.reference_id),
      facts([
        ["Status", el("span", { id: "enrollment-status", class: `badge ${e.status}` }, STATUS_WORDS[e.status] || e.status)],
        ["Decided", when(e.decided_at)],
        ["Threshold", num(e.threshold, 1)],
        ["Candidates", String(e.candidate_count)],
        e.fingers ? ["Fingers", e.fingers.map((f) => `${positionName(f.position)}${f.has_image ? ", image" : ""}, ${f.minutiae_count} minutiae`).join("; ")] : null,
      ]),
      el("h3", {}, "History"),
      historyList(e),
    ),
  );
  if (e.adjudication) {
    const a = e.adjudication;
    body.append(
      el(
        "section",
        { class: "card", id: "decision-made", tabindex: "-1" },
        el("h3", {}, "Decision"),
        facts([
          ["Verdict", el("span", { id: "verdict" }, a.verdict)],
          ["By", el("span", { id: "verdict-by" }, a.by)],
          ["At", when(a.at)],
          ["Comment", a.comment || "—"],
        ]),
      ),
    );
  }
  if (e.candidates && e.candidates.length > 0) {
    const canCompare = session.hasAny(["investigator", "adjudicator"]);
    body.append(
      el(
        "section",
        { class: "card" },
        el("h3", {}, "Candidates"),
        el(
          "table",
          { class: "candidates" },
          el("thead", {}, el("tr", {}, ["Rank", "Reference id", "Fused score", "What it means", "Fingers", "Face", ""].map((h) => el("th", { scope: "col" }, h)))),
          el(
            "tbody",
            {},
            e.candidates.map((c) => {
              let action = "";
              if (canCompare) {
                action = el("button", { type: "button", class: "compare", "aria-label": `Compare with ${c.reference_id}` }, "Compare");
                action.addEventListener("click", () => {
                  memory.compare = heldComparison(e, c, back);
                  go("#/compare");
                });
              }
              return el(
                "tr",
                { class: "candidate", "data-reference-id": c.reference_id },
                el("td", {}, String(c.rank)),
                el("td", { class: "ref" }, c.reference_id),
                el("td", { class: "num" }, num(c.score, 1)),
                el("td", {}, fmrWords(c.score)),
                el("td", {}, fingerScores(c.fingers)),
                el("td", {}, faceScore(c.face)),
                el("td", {}, action),
              );
            }),
          ),
        ),
      ),
    );
  }
  if (e.status === "potential_duplicate" && session.has("adjudicator")) {
    body.append(decisionForm(e, body, back));
  }
}

function heldComparison(e, candidate, back) {
  return {
    title: `${e.reference_id} against ${candidate.reference_id}`,
    back: `${back || "#/lookup"}/${encodeURIComponent(e.reference_id)}`,
    backText: "Back to the enrollment",
    probeLabel: `${e.reference_id} (held)`,
    galleryId: candidate.reference_id,
    score: candidate.score,
    face: candidate.face,
    fingers: (candidate.fingers || []).map((f) => ({
      heading: positionName(f.position),
      probe: { reference_id: e.reference_id, position: f.position },
      gallery: { reference_id: candidate.reference_id, position: f.position },
      probeImageUrl: null,
      probeTitle: `${e.reference_id}, ${positionName(f.position)}`,
    })),
  };
}

function decisionForm(e, body, back) {
  const group = uid("verdict");
  const radio = (value, text) => {
    const id = `${group}-${value}`;
    return el("div", { class: "choice" }, el("input", { type: "radio", name: group, value, id, required: true }), el("label", { for: id }, text));
  };
  const comment = el("textarea", { id: "decision-comment", rows: 3, maxlength: 4000 });
  const button = el("button", { type: "submit", id: "decide" }, "Record decision");
  const status = el("div", { class: "status", "aria-live": "polite" });
  const form = el(
    "form",
    { class: "card", id: "decision" },
    el("h3", {}, "Decide"),
    el(
      "fieldset",
      {},
      el("legend", {}, "Verdict"),
      radio("duplicate", "Duplicate: the same person; never issue"),
      radio("distinct", "Distinct: different people; clear the enrollment"),
    ),
    field("Comment (kept in the audit log)", comment),
    button,
    status,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clear(status);
    const chosen = form.querySelector(`input[name="${group}"]:checked`);
    if (!chosen) {
      status.append(errorBox(new Error("Choose duplicate or distinct.")));
      return;
    }
    await busy(button, "Recording…", async () => {
      try {
        const answer = await api("POST", `/v1/enrollments/${encodeURIComponent(e.reference_id)}/adjudication`, {
          verdict: chosen.value,
          comment: comment.value,
        });
        renderEnrollment(body, answer, back);
        const done = body.querySelector("#decision-made");
        if (done) done.focus();
      } catch (err) {
        status.append(errorBox(err));
      }
    });
  });
  return form;
}

// ---------------------------------------------------------------- lookup

function lookupPage(referenceId) {
  const input = el("input", { type: "text", id: "lookup-id", required: true, autocomplete: "off", spellcheck: "false" });
  if (referenceId) input.value = referenceId;
  const button = el("button", { type: "submit", id: "lookup" }, "Look up");
  const form = el("form", { class: "card row", id: "lookup-form" }, field("Reference id", input), button);
  const out = el("div", {});
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = input.value.trim();
    if (id) go(`#/lookup/${encodeURIComponent(id)}`);
  });
  page("Enrollment lookup", form, out);
  if (referenceId) {
    lookupInto(out, referenceId);
  } else {
    input.focus();
  }
}

async function lookupInto(out, referenceId) {
  const status = el("div", { class: "status", "aria-live": "polite" });
  const body = el("div", { id: "enrollment", "data-reference-id": referenceId });
  out.append(status, body);
  body.append(el("p", { class: "loading" }, el("span", { class: "spinner", "aria-hidden": "true" }), "Loading…"));
  try {
    const e = await api("GET", `/v1/enrollments/${encodeURIComponent(referenceId)}`);
    renderEnrollment(body, e, "#/lookup");
  } catch (err) {
    clear(body);
    status.append(errorBox(err));
  }
}

// ---------------------------------------------------------------- admin

const AUDIT_PAGE = 20;

function section(title, id) {
  const body = el("div", { class: "section-body" }, el("p", { class: "loading" }, el("span", { class: "spinner", "aria-hidden": "true" }), "Loading…"));
  return { node: el("section", { class: "card", id, "aria-label": title }, el("h2", {}, title), body), body };
}

async function fill(sectionBody, work) {
  try {
    const content = await work();
    clear(sectionBody).append(content);
  } catch (e) {
    clear(sectionBody).append(errorBox(e));
  }
}

function words(key) {
  return key.replaceAll("_", " ");
}

function adminPage() {
  const stats = section("Statistics", "stats");
  const chain = section("Audit chain", "audit-state");
  const log = section("Audit log", "audit-log");
  const keys = section("API keys", "keys");
  const det = section("DET plots of the last evaluation", "det");
  page("Admin", el("div", { class: "grid" }, stats.node, chain.node), el("div", { class: "grid" }, keys.node, det.node), log.node);

  fill(stats.body, async () => {
    const s = await api("GET", "/v1/stats");
    return facts(Object.entries(s).map(([k, v]) => [words(k), typeof v === "number" ? v.toLocaleString("en-US") : JSON.stringify(v)]));
  });
  let entries = 0;
  const chainLoaded = api("GET", "/v1/audit/state").then((st) => {
    entries = Number(st.entries) || 0;
    return st;
  });
  fill(chain.body, async () => {
    const st = await chainLoaded;
    return facts([
      ["Chain", el("span", { class: st.intact ? "ok" : "bad", id: "chain-intact" }, st.intact ? "intact" : "broken")],
      ["Entries", Number(st.entries).toLocaleString("en-US")],
      ["Head", el("code", { class: "hash" }, st.head || "—")],
      st.problem ? ["Problem", st.problem] : null,
    ]);
  });
  fill(log.body, async () => {
    await chainLoaded.catch(() => null);
    return auditLog(Math.max(0, entries - AUDIT_PAGE), entries);
  });
  fill(keys.body, async () => {
    const list = await api("GET", "/v1/keys");
    const rows = (Array.isArray(list) ? list : list.keys || []).map((k) =>
      el(
        "tr",
        {},
        el("td", {}, el("code", {}, k.key_id)),
        el("td", {}, k.name || "—"),
        el("td", {}, (k.roles || []).join(", ")),
        el("td", {}, when(k.created_at)),
        el("td", {}, k.revoked_at ? `revoked ${when(k.revoked_at)}` : k.revoked ? "revoked" : "active"),
      ),
    );
    return el(
      "table",
      { class: "keys" },
      el("thead", {}, el("tr", {}, ["Key id", "Name", "Roles", "Created", "State"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows),
    );
  });
  fill(det.body, async () => {
    let listed;
    try {
      listed = await api("GET", "/v1/eval/det");
    } catch (e) {
      if (e.status === 404) return el("p", { class: "empty" }, "No DET plots: start the service with --det-dir pointing at an evaluation's output.");
      throw e;
    }
    const plots = listed.plots || [];
    if (plots.length === 0) return el("p", { class: "empty" }, "The DET directory holds no plots yet.");
    const figures = await Promise.all(
      plots.map(async (name) => {
        const blob = await api("GET", `/v1/eval/det/${encodeURIComponent(name)}`, undefined, "blob");
        return el("figure", {}, el("img", { src: blobUrl(blob), alt: `DET curve ${name}` }), el("figcaption", {}, name));
      }),
    );
    return el("div", { class: "plots" }, figures);
  });
}

function auditLog(after, total) {
  const wrap = el("div", {});
  const render = async (from) => {
    const rows = await api("GET", `/v1/audit?after=${from}&limit=${AUDIT_PAGE}`);
    const older = el("button", { type: "button", id: "audit-older", disabled: from === 0 }, "Older");
    const newer = el("button", { type: "button", id: "audit-newer", disabled: rows.length < AUDIT_PAGE }, "Newer");
    older.addEventListener("click", () => busy(older, "Loading…", () => render(Math.max(0, from - AUDIT_PAGE)).catch((e) => wrap.append(errorBox(e)))));
    newer.addEventListener("click", () => busy(newer, "Loading…", () => render(from + AUDIT_PAGE).catch((e) => wrap.append(errorBox(e)))));
    const first = rows.length ? rows[0].seq : from;
    const last = rows.length ? rows[rows.length - 1].seq : from;
    clear(wrap).append(
      el(
        "div",
        { class: "table-wrap" },
        el(
        "table",
        { class: "audit" },
        el("caption", {}, rows.length ? `Entries ${first}–${last}${total ? ` of ${total}` : ""}` : "No entries"),
        el("thead", {}, el("tr", {}, ["#", "At", "Who", "Endpoint", "Reference id", "Outcome", "Comment"].map((h) => el("th", { scope: "col" }, h)))),
        el(
          "tbody",
          {},
          rows.map((r) =>
            el(
              "tr",
              { "data-seq": r.seq },
              el("td", { class: "num" }, String(r.seq)),
              el("td", { class: "when" }, when(r.at)),
              el("td", {}, r.actor_name || r.actor_key_id || "—"),
              el("td", {}, r.endpoint || ""),
              el("td", { class: "ref" }, r.reference_id || ""),
              el("td", {}, r.outcome || ""),
              el("td", {}, r.comment || ""),
            ),
          ),
        ),
      ),
      ),
      el("div", { class: "pager" }, older, newer),
    );
  };
  return render(after).then(() => wrap);
}

// ---------------------------------------------------------------- start

signOutButton.addEventListener("click", signOut);
window.addEventListener("hashchange", route);
route();
