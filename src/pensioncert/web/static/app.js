/* pensioncert phone pages: drives the public API step by step.
 * Plain ES2017, no build step, so it runs in the in-app browsers of WeChat and Alipay.
 * Every text comes from the page's message table (PC.msgs) or the API's {zh, en} messages.
 *
 * The face step: the camera opens as soon as the step is shown, a preview frame goes to
 * the readiness check about twice a second, and the start button is enabled when the face
 * is ready. Starting reveals the challenge (POST …/start): one prompt at a time, each at its
 * `at` seconds after the recorder started, until `record_seconds`. The session id lives in
 * the URL (?s=…), so a reload or a reopened link shows the same step or result. */
(function () {
  "use strict";
  var PC = JSON.parse(document.getElementById("pc-config").textContent);
  var EN = PC.lang === "en";
  var state = {
    session: null, challenge: null, started: null, job: null, mode: "self", stream: null,
    recording: false, ready: false, readiness: null, previousFace: null, cameraOpenedAt: null,
    recordStartedAt: null, shown: [], spoken: [], result: null
  };
  window.pensioncert = state; // for debugging on a phone and for the browser tests

  function $(id) { return document.getElementById(id); }
  function msg(code, params) {
    var text = PC.msgs[code] || code;
    Object.keys(params || {}).forEach(function (k) { text = text.split("{" + k + "}").join(params[k]); });
    return text;
  }
  function pick(m) { return m ? (EN ? m.en : m.zh) : ""; }
  function currentStep() { return document.body.getAttribute("data-current-step"); }

  /* ------------------------------------------------------------ speech */

  // Bundled prompts (espeak-ng, made at build time) where the browser has no voice for the
  // language: headless browsers and several in-app browsers have none.
  var player = null;
  function hasVoice() {
    try {
      if (!("speechSynthesis" in window)) { return false; }
      var want = EN ? "en" : "zh";
      return window.speechSynthesis.getVoices().some(function (v) {
        return (v.lang || "").toLowerCase().indexOf(want) === 0;
      });
    } catch (e) { return false; }
  }

  /** Say ``text`` (``key``: its bundled recording). Guidance waits for what is being said;
   *  ``urgent`` (a prompt while recording) interrupts it. */
  var pending = null;
  function speak(text, key, urgent) {
    if (!text) { return; }
    var voice = hasVoice();
    var bundled = !voice && key && PC.audio && PC.audio.indexOf(key) >= 0;
    var item = { text: text, key: key || null, via: voice ? "voice" : (bundled ? "audio" : "none") };
    if (!urgent && speaking()) { pending = item; return; }
    pending = null;
    say(item);
  }

  function speaking() {
    try {
      if (player && !player.paused && !player.ended) { return true; }
      return "speechSynthesis" in window && window.speechSynthesis.speaking;
    } catch (e) { return false; }
  }

  function say(item) {
    state.spoken.push(item);
    try {
      if (item.via === "voice") {
        var u = new SpeechSynthesisUtterance(item.text);
        u.lang = EN ? "en-US" : "zh-CN";
        u.rate = 0.9;
        u.onend = sayPending;
        window.speechSynthesis.cancel();
        window.speechSynthesis.speak(u);
      } else if (item.via === "audio") {
        if (!player) {
          player = state.player = new Audio();
          player.addEventListener("ended", sayPending);
        }
        player.src = PC.audio_base + (EN ? "en/" : "zh/") + item.key + ".mp3";
        var played = player.play();
        if (played && played.catch) { played.catch(function () {}); }
      }
    } catch (e) { /* speech is a help, never a requirement */ }
  }

  function sayPending() { if (pending) { var next = pending; pending = null; say(next); } }

  /* ------------------------------------------------------------ plumbing */

  function showError(text) {
    if (currentStep() === "face") {  // on the one-screen face step, under the camera
      $("face-intro").textContent = text || msg(state.challenge && state.challenge.kind === "digits"
        ? "web.digits_intro" : "web.actions_intro");
      $("face-intro").className = "face-intro" + (text ? " error" : "");
      return;
    }
    var box = $("flow-error") || $("query-error");
    if (!box) { return; }
    box.textContent = text || "";
    box.hidden = !text;
    if (text) { box.scrollIntoView({ block: "center" }); }
  }

  function api(method, path, body, isForm) {
    var opts = { method: method, headers: { "Accept": "application/json" } };
    if (body && isForm) { opts.body = body; }
    else if (body) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var err = new Error((data.error && pick(data.error.message)) || msg("web.network_error"));
          err.code = data.error && data.error.code;
          err.status = r.status;
          throw err;
        }
        return data;
      });
    }, function () { throw new Error(msg("web.network_error")); });
  }

  function busy(button, on) { if (button) { button.disabled = on; button.classList.toggle("busy", on); } }

  function show(step) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-step]"), function (s) {
      s.hidden = s.getAttribute("data-step") !== step;
    });
    document.body.setAttribute("data-current-step", step);
    if (step !== "face") { closeCamera(); }
    showError("");
    window.scrollTo(0, 0);
  }

  /** ID numbers as people type them: spaces, hyphens, full-width digits, a lower-case x. */
  function cleanNumber(text) {
    return String(text || "").replace(/[\uff10-\uff19]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    }).replace(/[\s\-\u2010-\u2015\u30fc\uff0d_.]/g, "").replace(/[x\uff58\uff38]/g, "X");
  }
  function cleanName(text) { return String(text || "").replace(/^[\s\u3000]+|[\s\u3000]+$/g, ""); }

  function bindXKeys() {
    Array.prototype.forEach.call(document.querySelectorAll(".x-key"), function (key) {
      key.addEventListener("click", function () {
        var input = $(key.getAttribute("data-for"));
        if (!input) { return; }
        input.value = input.value + "X";
        input.focus();
      });
    });
  }

  /* ------------------------------------------------------------ the session in the URL */

  function rememberSession(id) {
    var params = new URLSearchParams(location.search);
    params.set("lang", PC.lang);
    if (id) { params.set("s", id); } else { params.delete("s"); }
    history.replaceState(null, "", location.pathname + "?" + params.toString());
    var other = new URLSearchParams(params);
    other.set("lang", EN ? "zh-CN" : "en");
    var link = $("lang-switch");
    if (link) { link.setAttribute("href", location.pathname + "?" + other.toString()); }
  }

  function startSession(mode, helper) {
    var body = { channel: PC.channel, mode: mode, language: PC.lang };
    if (helper) { body.helper = helper; }
    return api("POST", "/api/v1/sessions", body).then(function (s) {
      state.session = s;
      rememberSession(s.id);
      return s;
    });
  }

  /** Reopened link or reload: the same result, or the step the session had reached. */
  function resume(id) {
    return api("GET", "/api/v1/sessions/" + id).then(function (s) {
      state.session = s;
      state.mode = s.mode;
      rememberSession(s.id);
      return api("GET", "/api/v1/sessions/" + id + "/result").then(function (r) {
        if (r.outcome !== "none") { state.job = r.job; return renderResult(r); }
        if (s.decision) { return showDecision(s.decision); }
        firstStep(true);
      });
    }).catch(function () { rememberSession(null); state.session = null; firstStep(false); });
  }

  /* ------------------------------------------------------------ identity and decision */

  function identify(name, idNumber, source, corrected) {
    var body = { name: cleanName(name), id_number: cleanNumber(idNumber), source: source || "typed" };
    if (corrected && corrected.length) { body.corrected = corrected; }
    return api("POST", "/api/v1/sessions/" + state.session.id + "/identity", body).then(showDecision);
  }

  /** A name the user changed from a reading the card reader was unsure of is a confirmed correction. */
  function corrections() {
    var r = state.reading;
    if (!r || (r.uncertain || []).indexOf("name") < 0) { return []; }
    return cleanName($("confirm-name").value) !== cleanName(r.fields.name) ? ["name"] : [];
  }

  function showDecision(d) {
    state.decision = d;
    var code = d.code;
    var fix = code === "decision.no_match" || code === "decision.name_mismatch" || code === "decision.not_found";
    var done = code === "decision.already_certified";
    var capped = d.may_certify && !!d.cap;
    var kind = d.may_certify && !capped ? "ok" : (done ? "done" : (fix ? "fix" : "stop"));
    // A cap reached today is the answer that matters: said first, in place of "you may certify".
    $("decision-message").textContent = capped ? pick(d.cap) : (done ? "✓ " : "") + pick(d.message);
    $("decision-message").className = "decision " + kind;
    $("decision-message").setAttribute("data-code", capped ? d.cap.code : code);
    $("decision-who").textContent = d.retiree_name ? d.retiree_name + "  " + (d.id_number_masked || "") : "";
    $("decision-go").hidden = kind !== "ok";
    $("decision-cap").hidden = !capped;
    if (capped) {
      $("cap-retry").textContent = d.retry_on ? msg("web.retry_time", {
        month: Number(d.retry_on.slice(5, 7)), day: Number(d.retry_on.slice(8, 10)) }) : "";
    }
    $("decision-edit").hidden = !fix;
    $("decision-next").hidden = !done;
    $("decision-stop").hidden = kind === "ok" || done;
    show("decision");
    speak(pick(d.message));
  }

  function editIdentity() {
    // The session stays; identifying again with the corrected name or number is allowed.
    show($("confirm-form") && state.cardRead ? "confirm" : ($("identity-form") ? "identity" : "idcard"));
  }

  function bindIdentityForm() {
    var form = $("identity-form");
    if (!form) { return; }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      showError("");
      var button = $("identity-submit");
      busy(button, true);
      var name = $("id-name").value, number = $("id-number").value;
      var ready = state.session ? Promise.resolve(state.session) : startSession(state.mode, helperFromForm());
      ready.then(function () { return identify(name, number, state.cardRead ? "id_card" : "typed"); })
        .catch(function (e) {
          // A refused helper means the session was never made: let them fix it and resubmit.
          if (e.code && e.code.indexOf("flow.helper") === 0) { state.session = null; }
          showError(e.message);
        })
        .then(function () { busy(button, false); });
    });
  }

  function helperFromForm() {
    if (state.mode !== "proxy") { return null; }
    return { name: cleanName($("helper-name").value), phone: cleanNumber($("helper-phone").value),
             relationship: $("helper-relationship").value };
  }

  /* ------------------------------------------------------------ ID card (WeChat, city app scan) */

  function problemsInto(list, problems) {
    list.innerHTML = "";
    (problems || []).forEach(function (p) {
      var li = document.createElement("li");
      li.textContent = pick(p);
      li.setAttribute("data-code", p.code);
      list.appendChild(li);
    });
  }

  function readCard(front, back) {
    var fd = new FormData();
    fd.append("front", front);
    if (back) { fd.append("back", back); }
    return api("POST", "/api/v1/sessions/" + state.session.id + "/id-card", fd, true);
  }

  function bindCardForm() {
    var form = $("card-form");
    if (!form) { return; }
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      input.addEventListener("change", function () {
        var label = form.querySelector('[data-for="' + input.id + '"]');
        if (label) { label.textContent = input.files.length ? "✓ " + input.files[0].name : ""; }
      });
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      showError("");
      var front = $("card-front").files[0], back = $("card-back").files[0];
      if (!front || !back) { showError(msg("web.card_front") + " / " + msg("web.card_back")); return; }
      var button = $("card-submit");
      busy(button, true);
      button.textContent = msg("web.reading_card");
      readCard(front, back).then(function (reading) {
        state.cardRead = true;
        state.reading = reading;
        $("confirm-name").value = reading.fields.name || "";
        $("confirm-id").value = reading.fields.id_number || "";
        problemsInto($("card-problems"), reading.problems);
        show("confirm");
      }).catch(function (e) { showError(e.message); })
        .then(function () { busy(button, false); button.textContent = msg("web.upload_card"); });
    });
    $("confirm-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      showError("");
      var button = $("confirm-submit");
      busy(button, true);
      identify($("confirm-name").value, $("confirm-id").value, "id_card", corrections())
        .catch(function (e) { showError(e.message); }).then(function () { busy(button, false); });
    });
  }

  function bindScan() {
    var input = $("scan-card");
    if (!input) { return; }
    input.addEventListener("change", function () {
      if (!input.files.length) { return; }
      showError("");
      var ready = state.session ? Promise.resolve(state.session) : startSession("self");
      ready.then(function () { return readCard(input.files[0], null); }).then(function (reading) {
        state.cardRead = true;
        if (reading.fields.name) { $("id-name").value = reading.fields.name; }
        if (reading.fields.id_number) { $("id-number").value = reading.fields.id_number; }
        problemsInto($("scan-problems"), reading.problems);
      }).catch(function (e) { showError(e.message); });
    });
  }

  /* ------------------------------------------------------------ face step: challenge + preview */

  function setPrompt(text, kind, code) {
    var p = $("prompt");
    p.textContent = text;
    p.className = "prompt" + (kind ? " " + kind : "");
    if (code) { p.setAttribute("data-code", code); } else { p.removeAttribute("data-code"); }
    p.removeAttribute("data-index");
  }

  function newChallenge() {
    showError("");
    state.started = null;
    return api("POST", "/api/v1/sessions/" + state.session.id + "/challenges").then(function (c) {
      state.challenge = c;
      var camera = $("camera");
      camera.setAttribute("data-kind", c.kind);
      camera.setAttribute("data-challenge-id", c.id);
      $("face-intro").textContent = msg(c.kind === "digits" ? "web.digits_intro" : "web.actions_intro");
      $("record-start").hidden = false;
      $("record-start").textContent = msg("web.record_button");
      $("fallback-open").hidden = false;
      setReady(false);
      show("face");
      layoutCircle();
      setPrompt(msg("web.ready.opening"));
      speak(msg(c.kind === "digits" ? "web.digits_intro" : "web.actions_intro"),
            c.kind === "digits" ? "web.digits_intro" : "web.actions_intro", true);
      openPreview(c.kind === "digits");
      return c;
    }).catch(function (e) {
      if (e.code && (e.code.indexOf("retry_cap") >= 0 || e.code === "flow.no_reference")) {
        $("decision-go").hidden = true;
        $("decision-stop").hidden = false;
        $("decision-message").textContent = e.message;
        $("decision-message").className = "decision stop";
        $("decision-message").setAttribute("data-code", e.code);
        show("decision");
      } else {
        showError(e.message);
      }
    });
  }

  /** The circle: as large as the camera box allows, a little below the middle (prompt above it). */
  function layoutCircle() {
    var box = $("camera"), circle = $("circle");
    var w = box.clientWidth, h = box.clientHeight;
    if (!w || !h) { return; }
    // Room above the circle for a two-line prompt; the centre stays near the frame's middle,
    // where the recording's own face-in-circle check looks for the face.
    var room = Math.max(84, 0.14 * h);
    var d = Math.min(0.8 * w, 0.68 * h, 2 * (h - room - 8));
    var cy = Math.max(h * 0.5, room + d / 2);
    circle.style.width = d + "px";
    circle.style.height = d + "px";
    circle.style.left = (w - d) / 2 + "px";
    circle.style.top = (cy - d / 2) + "px";
    state.circleBox = { cx: w / 2, cy: cy, r: d / 2, w: w, h: h };
  }

  function openCamera(withAudio) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
      return Promise.reject(new Error("no getUserMedia"));
    }
    // Voice processing would damp the very speech the digits check listens for.
    var audio = withAudio ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false } : false;
    return navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: audio
    });
  }

  function openPreview(withAudio) {
    if (state.stream) { startChecking(); return; }
    openCamera(withAudio).then(function (stream) {
      if (currentStep() !== "face") { stream.getTracks().forEach(function (t) { t.stop(); }); return; }
      state.stream = stream;
      state.cameraOpenedAt = performance.now();
      var video = $("preview");
      video.srcObject = stream;
      video.play().catch(function () {});
      startChecking();
    }).catch(function () { cameraRefused(); });
  }

  function closeCamera() {
    stopChecking();
    if (state.stream) { state.stream.getTracks().forEach(function (t) { t.stop(); }); state.stream = null; }
    var video = $("preview");
    if (video) { video.srcObject = null; }
  }

  function cameraRefused() {
    state.cameraRefused = true;
    $("fallback-open").classList.add("primary");
    $("record-start").hidden = true;
    setPrompt(msg("web.camera_denied"), "error");
  }

  function setReady(on) {
    state.ready = on;
    $("camera").setAttribute("data-ready", on ? "true" : "false");
    $("record-start").disabled = !on;
  }

  /* readiness: one small JPEG of what the user sees, about twice a second */
  var checkTimer = null, checkFailures = 0, checking = false;

  function startChecking() {
    stopChecking();
    checkFailures = 0;
    state.previousFace = null;
    checkTimer = setInterval(checkOnce, PC.readiness_ms || 500);
  }
  function stopChecking() { if (checkTimer) { clearInterval(checkTimer); checkTimer = null; } }

  function frame() {
    var video = $("preview"), view = state.circleBox;
    if (!video.videoWidth || !view) { return null; }
    // The visible part of the preview (object-fit: cover), un-mirrored, at most 360 px wide.
    var vw = video.videoWidth, vh = video.videoHeight;
    var scale = Math.max(view.w / vw, view.h / vh);
    var sw = view.w / scale, sh = view.h / scale, sx = (vw - sw) / 2, sy = (vh - sh) / 2;
    var k = Math.min(1, 360 / sw);
    var canvas = state.canvas || (state.canvas = document.createElement("canvas"));
    canvas.width = Math.round(sw * k);
    canvas.height = Math.round(sh * k);
    canvas.getContext("2d").drawImage(video, sx, sy, sw, sh, 0, 0, canvas.width, canvas.height);
    var data = canvas.toDataURL("image/jpeg", 0.7);
    // The preview is mirrored on screen: a circle at x on screen is at (width - x) in the frame.
    return { jpeg: data.slice(data.indexOf(",") + 1),
             circle: [(view.w - view.cx) / scale * k, view.cy / scale * k, view.r / scale * k] };
  }

  function checkOnce() {
    if (checking || state.recording || state.started || currentStep() !== "face") { return; }
    var f = frame();
    if (!f) { return; }
    checking = true;
    api("POST", "/api/v1/sessions/" + state.session.id + "/readiness",
      { jpeg: f.jpeg, circle: f.circle, previous: state.previousFace }).then(function (r) {
      checkFailures = 0;
      state.previousFace = r.face;
      if (state.started || state.recording) { return; }
      var was = state.readiness;
      state.readiness = r.code;
      setPrompt(pick(r.message), r.ready ? "ready" : "guide", r.code);
      setReady(r.ready);
      if (r.code !== was) { speak(pick(r.message), r.code); }
    }).catch(function (e) {
      // The check guides; it never locks anyone out: after a few failed checks the button opens.
      checkFailures += 1;
      if (e.status !== 429 && checkFailures >= 3 && !state.ready) {
        setPrompt(msg("web.speak.start"), "guide");
        setReady(true);
      }
    }).then(function () { checking = false; });
  }

  /* ------------------------------------------------------------ timed recording */

  function startChallenge(timed) {
    var c = state.challenge;
    return api("POST", "/api/v1/sessions/" + state.session.id + "/challenges/" + c.id + "/start",
      { timed: timed }).catch(function (e) {
      if (e.code === "liveness.challenge_expired") {  // waited too long in front of the camera
        return api("POST", "/api/v1/sessions/" + state.session.id + "/challenges").then(function (fresh) {
          state.challenge = fresh;
          return api("POST", "/api/v1/sessions/" + state.session.id + "/challenges/" + fresh.id + "/start",
            { timed: timed });
        });
      }
      throw e;
    });
  }

  function pickMime() {
    if (!window.MediaRecorder || !MediaRecorder.isTypeSupported) { return ""; }
    var kinds = ["video/webm;codecs=vp8,opus", "video/webm", "video/mp4;codecs=avc1,mp4a", "video/mp4"];
    for (var i = 0; i < kinds.length; i++) { if (MediaRecorder.isTypeSupported(kinds[i])) { return kinds[i]; } }
    return "";
  }

  function record() {
    if (!state.challenge || state.recording || !state.stream || !state.ready) { return; }
    state.recording = true;
    stopChecking();
    $("record-start").disabled = true;
    setPrompt(msg("web.look_at_circle"), "wait", "web.look_at_circle");
    speak(msg("web.look_at_circle"), "web.look_at_circle", true);
    startChallenge(true).then(function (started) {
      state.started = started;
      var mime = pickMime();
      var recorder = new MediaRecorder(state.stream, mime ? { mimeType: mime } : undefined);
      var chunks = [];
      recorder.ondataavailable = function (e) { if (e.data && e.data.size) { chunks.push(e.data); } };
      recorder.onstop = function () {
        clearTimers();
        state.recording = false;
        $("rec-dot").hidden = true;
        var type = (recorder.mimeType || mime || "video/webm").split(";")[0];
        var blob = new Blob(chunks, { type: type });
        upload(blob, type.indexOf("mp4") >= 0 ? "recording.mp4" : "recording.webm");
      };
      // Prompt times count from the moment the recorder really starts (its "start" event): the
      // recording's own time 0. A busy phone can take a few hundred milliseconds to get there.
      var begun = false;
      function begin() {
        if (begun) { return; }
        begun = true;
        var t0 = performance.now();
        state.recordStartedAt = t0;
        state.recorderDelay = (t0 - state.recordRequestedAt) / 1000;
        state.shown = [];
        $("rec-dot").hidden = false;
        $("fallback-open").hidden = true;
        schedulePrompts(started, t0);
        countdown(started.record_seconds, t0);
        later(function () { if (recorder.state !== "inactive") { recorder.stop(); } }, t0, started.record_seconds);
      }
      recorder.onstart = begin;
      state.recordRequestedAt = performance.now();
      recorder.start(500);
      setTimeout(begin, 1500);  // a browser that never says "start" still gets its prompts
    }).catch(function (e) {
      state.recording = false;
      setReady(false);
      showError(e.message);
      newChallenge();
    });
  }

  var timers = [];
  function later(fn, t0, seconds) {
    timers.push(setTimeout(fn, Math.max(0, t0 + seconds * 1000 - performance.now())));
  }
  function clearTimers() { timers.forEach(clearTimeout); timers = []; }

  function countdown(seconds, t0) {
    function tick() {
      var left = Math.max(0, Math.ceil(seconds - (performance.now() - t0) / 1000));
      $("rec-left").textContent = String(left);
      $("record-start").textContent = msg("web.recording_left", { n: left });
      if (left > 0 && state.recording) { timers.push(setTimeout(tick, 250)); }
    }
    tick();
  }

  /** One prompt at a time, each at its own time after the recording started. */
  function schedulePrompts(started, t0) {
    started.steps.forEach(function (step, i) {
      later(function () {
        var digit = step.digit !== null && step.digit !== undefined;
        if (digit) {
          setPrompt(step.digit, "now digit", step.code);
          // Digits are shown, not spoken: the phone's own voice would be in the recording's sound.
        } else {
          setPrompt(pick(step.prompt), "now", step.code);
          speak(pick(step.prompt), step.code, true);
        }
        $("prompt").setAttribute("data-index", String(i));
        state.shown.push({ index: i, at: step.at, shown_at: (performance.now() - t0) / 1000 });
      }, t0, step.at);
    });
  }

  /* ------------------------------------------------------------ phone-camera fallback (untimed) */

  function nativeFallback() {
    if (!state.challenge) { return; }
    var button = $("fallback-open");
    busy(button, true);
    closeCamera();
    startChallenge(false).then(function (started) {
      state.started = started;
      var list = $("native-steps");
      list.innerHTML = "";
      list.className = "native-steps " + started.kind;
      started.steps.forEach(function (step) {
        var li = document.createElement("li");
        li.textContent = step.digit !== null && step.digit !== undefined ? step.digit : pick(step.prompt);
        li.setAttribute("data-code", step.code);
        list.appendChild(li);
      });
      list.setAttribute("data-steps", started.steps.map(function (s) { return s.digit || s.action; }).join(","));
      $("native-lead").textContent = msg(started.kind === "digits" ? "web.native_steps_digits" : "web.native_steps_actions");
      $("native-hint").textContent = msg("web.native_hint", { seconds: Math.round(started.record_seconds) });
      $("camera-error").hidden = !state.cameraRefused;
      show("native");
    }).catch(function (e) { showError(e.message); }).then(function () { busy(button, false); });
  }

  /* ------------------------------------------------------------ upload, job, result */

  function upload(blob, filename) {
    show("progress");
    $("progress-text").textContent = msg("web.uploading");
    $("progress-bar").value = 5;
    var fd = new FormData();
    fd.append("challenge_id", state.challenge.id);
    fd.append("video", blob, filename);
    api("POST", "/api/v1/sessions/" + state.session.id + "/recordings", fd, true).then(function (job) {
      state.job = job;
      $("progress-text").textContent = msg("web.checking");
      pollJob();
    }).catch(function (e) {
      newChallenge().then(function () { showError(e.message); }); // a refused upload changed nothing
    });
  }

  function pollJob() {
    api("GET", "/api/v1/jobs/" + state.job.id).then(function (job) {
      state.job = job;
      if (currentStep() === "progress") { $("progress-bar").value = Math.max(10, job.progress); }
      if (job.state === "decided") { return loadResult(); }
      setTimeout(pollJob, 800);
    }).catch(function () { setTimeout(pollJob, 2000); });
  }

  function listInto(list, items) {
    list.innerHTML = "";
    items.forEach(function (m) {
      var li = document.createElement("li");
      li.textContent = pick(m);
      li.setAttribute("data-code", m.code);
      list.appendChild(li);
    });
  }

  function loadResult() {
    return api("GET", "/api/v1/sessions/" + state.session.id + "/result").then(renderResult);
  }

  var followTimer = null;
  /** The result page follows the session until a final outcome, a reviewer's decision included. */
  function renderResult(r) {
    var before = state.result && state.result.outcome;
    state.result = r;
    if (r.outcome === "pending") {
      show("progress");
      $("progress-text").textContent = msg("web.checking");
      if (r.job) { state.job = r.job; pollJob(); }
      return;
    }
    var box = $("result-box");
    box.setAttribute("data-outcome", r.outcome);
    $("result-icon").textContent = r.outcome === "passed" ? "✔" : (r.outcome === "review" ? "…" : "✘");
    $("result-message").textContent = pick(r.message);
    if (r.proxy && state.session.helper_name) {
      $("result-helper").hidden = false;
      $("result-helper").textContent = msg("web.helper_recorded", { name: state.session.helper_name });
    }
    listInto($("result-reasons"), r.reasons);
    $("result-reasons-box").hidden = !r.reasons.length;
    // Under review nothing is wrong yet: say why a person looks, and no tips for a retry.
    $("result-reasons-title").textContent = msg(r.outcome === "review" ? "web.review_reasons_title" : "web.reasons_title");
    listInto($("result-advice"), r.advice);
    $("result-advice-box").hidden = !r.advice.length || r.outcome === "review";
    listInto($("result-offline"), r.offline_channels);
    $("result-offline-box").hidden = !r.offline_channels.length;
    $("retry").hidden = !r.retry_allowed;
    $("result-attempts").hidden = !r.retry_allowed;
    $("result-attempts").textContent = msg("web.attempts_left", { n: r.attempts_left });
    $("result-repeat").hidden = r.outcome !== "passed";
    $("result-waiting").hidden = r.outcome !== "review";
    if (currentStep() !== "result") { show("result"); }
    if (before !== r.outcome) {
      var key = r.outcome === "passed" ? "web.speak.passed" : (r.outcome === "failed" ? "web.speak.failed" : null);
      speak(pick(r.message), key, true);
    }
    if (followTimer) { clearTimeout(followTimer); followTimer = null; }
    if (r.outcome === "review") {  // a reviewer decides: look again until they have
      followTimer = setTimeout(function () { loadResult().catch(function () {}); }, PC.follow_ms || 5000);
    }
  }

  /* ------------------------------------------------------------ pages */

  function firstStep(haveSession) {
    if (PC.channel === "alipay") {
      if (haveSession) { $("helper-fields").hidden = state.mode !== "proxy"; show("identity"); }
      else { show("choose"); }
    } else if (PC.channel === "wechat") {
      (haveSession ? Promise.resolve(state.session) : startSession("self"))
        .then(function () { show("idcard"); }).catch(function (e) { showError(e.message); });
    } else {
      show("identity");
    }
  }

  function initChannel() {
    bindXKeys();
    bindIdentityForm();
    bindCardForm();
    bindScan();
    $("start-face").addEventListener("click", newChallenge);
    $("record-start").addEventListener("click", record);
    $("retry").addEventListener("click", newChallenge);
    $("edit-identity").addEventListener("click", editIdentity);
    $("fallback-open").addEventListener("click", nativeFallback);
    $("fallback-video").addEventListener("change", function () {
      var f = $("fallback-video").files[0];
      if (f && state.challenge) { upload(f, f.name || "recording.mp4"); }
    });
    window.addEventListener("resize", function () { if (currentStep() === "face") { layoutCircle(); } });
    if (PC.channel === "alipay") {
      $("choose-self").addEventListener("click", function () {
        state.mode = "self"; $("helper-fields").hidden = true; show("identity");
      });
      $("choose-other").addEventListener("click", function () {
        state.mode = "proxy"; $("helper-fields").hidden = false; show("identity");
      });
    }
    var sid = new URLSearchParams(location.search).get("s");
    if (sid) { resume(sid); } else { firstStep(false); }
  }

  function initQuery() {
    bindXKeys();
    $("query-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      showError("");
      var button = $("query-submit");
      busy(button, true);
      api("POST", "/api/v1/queries/history", { name: cleanName($("q-name").value), id_number: cleanNumber($("q-id").value) })
        .then(function (r) {
          $("query-result").hidden = false;
          var done = r.decision.code === "decision.already_certified";
          $("query-decision").textContent = (done ? "✓ " : "") + pick(r.decision.message);
          $("query-decision").className = "decision " + (r.decision.may_certify ? "ok" : (done ? "done" : "stop"));
          $("query-decision").setAttribute("data-code", r.decision.code);
          var body = $("query-history").querySelector("tbody");
          body.innerHTML = "";
          r.history.forEach(function (h) {
            var tr = document.createElement("tr");
            var channel = msg("channel." + h.channel + ".name");
            [h.date, channel === "channel." + h.channel + ".name" ? h.channel : channel,
             pick(h.result_message) + (h.proxy ? " " + msg("web.history_proxy") : "")]
              .forEach(function (text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); });
            tr.setAttribute("data-result", h.result);
            body.appendChild(tr);
          });
          $("query-history").hidden = !r.history.length;
          $("query-history-title").hidden = !r.history.length && done;
          // "No records" beside "already certified" reads as a contradiction: say it only when true.
          $("query-history-empty").hidden = !!r.history.length || done;
        }).catch(function (e) { $("query-result").hidden = true; showError(e.message); })
        .then(function () { busy(button, false); });
    });
  }

  if (PC.page === "channel") { initChannel(); } else if (PC.page === "query") { initQuery(); }
})();
