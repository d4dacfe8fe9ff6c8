// Keyboard shortcuts and frame scrubbing. Everything also works without this script:
// the buttons are plain form submits and the videos have native controls.
"use strict";

function currentQuestion() {
  return document.querySelector("form.question.current") || document.querySelector("form.question");
}

function moveCurrent(delta) {
  const forms = Array.from(document.querySelectorAll("form.question"));
  if (!forms.length) return;
  const at = Math.max(0, forms.indexOf(currentQuestion()));
  const next = forms[Math.min(forms.length - 1, Math.max(0, at + delta))];
  forms.forEach(f => f.classList.remove("current"));
  next.classList.add("current");
  next.scrollIntoView({block: "nearest"});
}

function players() { return Array.from(document.querySelectorAll("figure.player")); }

// The server reads each file's frame rate (data-fps); without one, stepping is off, never guessed.
function frameRate(figure) { return parseFloat(figure.dataset.fps) || null; }

// Frame k is shown from k / fps to (k + 1) / fps; stepping seeks to the middle of the next
// frame, so container timestamps rounded to the millisecond (WebM) never show the wrong one,
// and after any scrub one step is exactly one frame.
function currentFrame(video, fps) { return Math.floor(video.currentTime * fps + 1e-3); }

function stepFrames(figure, frames) {
  const fps = frameRate(figure);
  if (!fps) return;
  const video = figure.querySelector("video");
  video.pause();
  const last = video.duration ? Math.ceil(video.duration * fps) - 1 : Infinity;
  const frame = Math.max(0, Math.min(last, currentFrame(video, fps) + frames));
  video.currentTime = (frame + 0.5) / fps;
}

function wirePlayer(figure) {
  const video = figure.querySelector("video");
  const slider = figure.querySelector(".scrubber");
  const time = figure.querySelector(".time");
  const fps = frameRate(figure);
  const sync = () => {
    if (video.duration) slider.value = Math.round(1000 * video.currentTime / video.duration);
    time.textContent = video.currentTime.toFixed(3) + " s" +
      (fps ? " · frame " + (currentFrame(video, fps) + 1) : "");
  };
  video.addEventListener("error", () => { figure.querySelector(".play-error").hidden = false; });
  if (video.error) figure.querySelector(".play-error").hidden = false;  // failed before this script ran
  video.addEventListener("timeupdate", sync);
  video.addEventListener("seeked", sync);
  slider.addEventListener("input", () => {
    if (video.duration) { video.pause(); video.currentTime = video.duration * slider.value / 1000; }
  });
  figure.querySelectorAll("button.step").forEach(b =>
    b.addEventListener("click", () => stepFrames(figure, parseInt(b.dataset.step, 10))));
}

// One answer per page: a second key press or click while the first answer is on its way
// would post the same question again with no revision and get "already answered" (409).
let submitting = false;

// `defer`: the document is parsed when this runs, so wire up at once (no keypress is lost).
(() => {
  players().forEach(wirePlayer);
  document.addEventListener("submit", event => {
    if (submitting) event.preventDefault();
    submitting = true;
  });
  window.addEventListener("pageshow", event => { if (event.persisted) submitting = false; });  // back/forward
  document.addEventListener("keydown", event => {
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (submitting) { event.preventDefault(); return; }
    const key = event.key;
    if (key === "j") { moveCurrent(1); return; }
    if (key === "k") { moveCurrent(-1); return; }
    if (key === "n" || key === "p") {
      const link = document.querySelector(`a[data-key="${key}"]`);
      if (link) link.click();
      return;
    }
    if (key === " ") {
      event.preventDefault();
      const videos = players().map(f => f.querySelector("video"));
      const play = videos.some(v => v.paused);
      videos.forEach(v => play ? v.play().catch(() => {}) : v.pause());
      return;
    }
    if (key === "," || key === ".") { players().forEach(f => stepFrames(f, key === "," ? -1 : 1)); return; }
    const question = currentQuestion();
    if (!question) return;
    const button = question.querySelector(`button[data-key="${key === "t" ? "0" : key}"]`);
    if (button) { event.preventDefault(); button.click(); }
  });
})();
