// lumacodec studio: the page's state (a photo, its points, a reference, the colour mode) and
// its conversation with the server (lumacodec/studio/app.py). Points are kept in the photo's
// own pixel coordinates, as the points file has them.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { photo: null, points: [], selected: -1, reference: false, version: 0 };
let inFlight = false, pending = false, drag = null, resultUrl = null;

function status(text, error = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

async function call(url, options = {}) {
  const resp = await fetch(url, options);
  if (!resp.ok) {
    let message = `${resp.status} ${resp.statusText}`;
    try { message = (await resp.json()).error || message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return resp;
}

const json = (body) => ({ method: "POST", headers: { "Content-Type": "application/json" },
                          body: JSON.stringify(body) });
const colourMode = () => document.querySelector("input[name=colour]:checked").value;
const upload = (file) => { const f = new FormData(); f.append("file", file); return f; };

function download(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function filename(resp, fallback) {
  const m = /filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "");
  return m ? m[1] : fallback;
}

// --- colouring -------------------------------------------------------------------------

async function update() {
  if (!state.photo) return;
  if (inFlight) { pending = true; return; }
  inFlight = true;
  pending = false;
  try {
    const resp = await call(`/api/photo/${state.photo.id}/colour`,
                            json({ points: state.points, colour: colourMode() }));
    const blob = await resp.blob();
    if (resultUrl) URL.revokeObjectURL(resultUrl);
    resultUrl = URL.createObjectURL(blob);
    $("result").src = resultUrl;
    state.version += 1;
    $("result").dataset.version = String(state.version);
    const n = state.points.length;
    status(`coloured in ${resp.headers.get("X-Seconds")} s · ${n} point${n === 1 ? "" : "s"}`
           + (state.reference ? " · reference" : ""));
  } catch (err) {
    status(err.message, true);
  } finally {
    inFlight = false;
    if (pending) update();
  }
}

// --- points ----------------------------------------------------------------------------

function drawMarks() {
  const layer = $("marks");
  layer.replaceChildren();
  state.points.forEach((p, i) => {
    const m = document.createElement("div");
    m.className = "mark" + (i === state.selected ? " selected" : "");
    m.style.left = `${(100 * p.x) / state.photo.width}%`;
    m.style.top = `${(100 * p.y) / state.photo.height}%`;
    m.style.background = p.colour;
    m.dataset.index = String(i);
    m.title = `${p.colour} at (${Math.round(p.x)}, ${Math.round(p.y)})`;
    m.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      e.stopPropagation();
      select(i);
      drag = { index: i, moved: false };
    });
    layer.appendChild(m);
  });
  $("delete").disabled = state.selected < 0;
  $("save-points").disabled = !state.photo;
}

function select(i) {
  state.selected = i;
  if (i >= 0) {
    $("picker").value = state.points[i].colour;
    $("radius").value = state.points[i].radius;
    $("radius-out").textContent = state.points[i].radius;
  }
  drawMarks();
}

function photoXY(e) {
  const r = $("result").getBoundingClientRect();
  const x = Math.min(Math.max((e.clientX - r.left) / r.width, 0), 0.9999) * state.photo.width;
  const y = Math.min(Math.max((e.clientY - r.top) / r.height, 0), 0.9999) * state.photo.height;
  return { x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10 };
}

function setPoints(points) {
  state.points = points;
  state.selected = -1;
  drawMarks();
  update();
}

$("result").addEventListener("pointerdown", (e) => {
  if (!state.photo || e.button !== 0) return;
  e.preventDefault();
  const { x, y } = photoXY(e);
  state.points.push({ x, y, colour: $("picker").value, radius: Number($("radius").value) });
  select(state.points.length - 1);
  update();
});

window.addEventListener("pointermove", (e) => {
  if (!drag) return;
  Object.assign(state.points[drag.index], photoXY(e));
  drag.moved = true;
  drawMarks();
});

window.addEventListener("pointerup", () => {
  if (drag && drag.moved) update();
  drag = null;
});

function deleteSelected() {
  if (state.selected < 0) return;
  state.points.splice(state.selected, 1);
  state.selected = -1;
  drawMarks();
  update();
}

$("delete").addEventListener("click", deleteSelected);
$("clear").addEventListener("click", () => setPoints([]));
window.addEventListener("keydown", (e) => {
  if ((e.key === "Delete" || e.key === "Backspace") && e.target === document.body) deleteSelected();
  if (e.key === "Escape") select(-1);
});

$("picker").addEventListener("input", () => {
  if (state.selected < 0) return;
  state.points[state.selected].colour = $("picker").value;
  drawMarks();
  update();
});

$("radius").addEventListener("input", () => {
  $("radius-out").textContent = $("radius").value;
  if (state.selected < 0) return;
  state.points[state.selected].radius = Number($("radius").value);
  update();
});

document.querySelectorAll("input[name=colour]").forEach((el) => el.addEventListener("change", update));

// --- photo and reference ---------------------------------------------------------------

function showPhoto(info) {
  state.photo = info;
  state.reference = Boolean(info.reference);
  $("drop").hidden = true;
  $("canvas").hidden = false;
  $("canvas").style.setProperty("--aspect", String(info.width / info.height));
  $("save").disabled = false;
  document.title = `${info.name} · lumacodec studio`;
  setPoints([]);
}

async function openPhoto(file) {
  status(`opening ${file.name}…`);
  try {
    const resp = await call("/api/photo", { method: "POST", body: upload(file) });
    showPhoto(await resp.json());
    clearReferenceView();
  } catch (err) {
    status(err.message, true);
  }
}

function clearReferenceView() {
  $("ref-canvas").hidden = true;
  $("ref-clear").hidden = true;
}

async function openReference(file) {
  if (!state.photo) { status("open a photo first", true); return; }
  status(`reading the reference ${file.name}…`);
  try {
    await call(`/api/photo/${state.photo.id}/reference`, { method: "POST", body: upload(file) });
    state.reference = true;
    const bitmap = await createImageBitmap(file);
    const c = $("ref-canvas");
    const k = Math.min(1, 560 / Math.max(bitmap.width, bitmap.height));
    c.width = Math.round(bitmap.width * k);
    c.height = Math.round(bitmap.height * k);
    c.getContext("2d").drawImage(bitmap, 0, 0, c.width, c.height);
    c.hidden = false;
    $("ref-clear").hidden = false;
    update();
  } catch (err) {
    status(err.message, true);
  }
}

$("ref-canvas").addEventListener("click", (e) => {
  const c = $("ref-canvas");
  const r = c.getBoundingClientRect();
  const x = Math.floor(((e.clientX - r.left) / r.width) * c.width);
  const y = Math.floor(((e.clientY - r.top) / r.height) * c.height);
  const [red, green, blue] = c.getContext("2d").getImageData(x, y, 1, 1).data;
  $("picker").value = "#" + [red, green, blue].map((v) => v.toString(16).padStart(2, "0")).join("");
  $("picker").dispatchEvent(new Event("input"));
});

$("ref-clear").addEventListener("click", async () => {
  try {
    await call(`/api/photo/${state.photo.id}/reference`, { method: "DELETE" });
    state.reference = false;
    clearReferenceView();
    update();
  } catch (err) {
    status(err.message, true);
  }
});

function dropZone(el, onFile) {
  el.addEventListener("dragover", (e) => { e.preventDefault(); el.classList.add("over"); });
  el.addEventListener("dragleave", () => el.classList.remove("over"));
  el.addEventListener("drop", (e) => {
    e.preventDefault();
    el.classList.remove("over");
    if (e.dataTransfer.files.length) onFile(e.dataTransfer.files[0]);
  });
}

dropZone($("drop"), openPhoto);
dropZone($("stage"), openPhoto);
dropZone($("ref-drop"), openReference);
$("photo-file").addEventListener("change", (e) => e.target.files[0] && openPhoto(e.target.files[0]));
$("ref-file").addEventListener("change", (e) => e.target.files[0] && openReference(e.target.files[0]));

// --- saving ----------------------------------------------------------------------------

$("save").addEventListener("click", async () => {
  const scale = Number($("scale").value);
  status(`saving ×${scale} at full resolution…`);
  try {
    const resp = await call(`/api/photo/${state.photo.id}/save`,
                            json({ points: state.points, colour: colourMode(), scale }));
    download(await resp.blob(), filename(resp, "colour.png"));
    status(`saved ×${scale} in ${resp.headers.get("X-Seconds")} s`);
  } catch (err) {
    status(err.message, true);
  }
});

$("save-points").addEventListener("click", async () => {
  try {
    const resp = await call(`/api/photo/${state.photo.id}/points`, json({ points: state.points }));
    download(await resp.blob(), filename(resp, "points.json"));
  } catch (err) {
    status(err.message, true);
  }
});

$("points-file").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (!file || !state.photo) return;
  try {
    const resp = await call(`/api/photo/${state.photo.id}/points/load`,
                            { method: "POST", body: upload(file) });
    setPoints((await resp.json()).points);
  } catch (err) {
    status(err.message, true);
  }
  e.target.value = "";
});

// --- start -----------------------------------------------------------------------------

call("/api/initial").then((r) => r.json()).then((info) => { if (info.id) showPhoto(info); })
  .catch((err) => status(err.message, true));
