/* pensioncert phone pages: drives the public API step by step.
 * Plain ES2017, no build step, so it runs in the in-app browsers of WeChat and Alipay.
 * Every text comes from the page's message table (PC.msgs) or the API's {zh, en} messages. */
(function () {
  "use strict";
  var PC = JSON.parse(document.getElementById("pc-config").textContent);
  var EN = PC.lang === "en";
  var state = { session: null, challenge: null, job: null, mode: "self", stream: null, recording: false };
  window.pensioncert = state; // for debugging on a phone and for the browser tests

  function $(id) { return document.getElementById(id); }
  function msg(code, params) {
    var text = PC.msgs[code] || code;
    Object.keys(params || {}).forEach(function (k) { text = text.split("{" + k + "}").join(params[k]); });
    return text;
  }
  function pick(m) { return m ? (EN ? m.en : m.zh) : ""; }

  function speak(text) {
    try {
      if (!("speechSynthesis" in window) || !text) { return; }
      var u = new SpeechSynthesisUtterance(text);
      u.lang = EN ? "en-US" : "zh-CN";
      u.rate = 0.9;
      window.speechSynthesis.cancel();
      window.speechSynthesis.speak(u);
    } catch (e) { /* speech is a help, never a requirement */ }
  }

  function showError(text) {
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
    window.scrollTo(0, 0);
  }

  /* ------------------------------------------------------------ session + identity */

  function startSession(mode, helper) {
    var body = { channel: PC.channel, mode: mode, language: PC.lang };
    if (helper) { body.helper = helper; }
    return api("POST", "/api/v1/sessions", body).then(function (s) { state.session = s; return s; });
  }

  function identify(name, idNumber, source) {
    return api("POST", "/api/v1/sessions/" + state.session.id + "/identity",
      { name: name, id_number: idNumber, source: source || "typed" }).then(showDecision);
  }

  function showDecision(d) {
    state.decision = d;
    $("decision-message").textContent = pick(d.message);
    $("decision-message").className = "decision " + (d.may_certify ? "ok" : "stop");
    $("decision-message").setAttribute("data-code", d.code);
    $("decision-who").textContent = d.retiree_name ? d.retiree_name + "  " + (d.id_number_masked || "") : "";
    $("decision-go").hidden = !d.may_certify;
    $("decision-stop").hidden = d.may_certify;
    show("decision");
    speak(pick(d.message));
  }

  function bindIdentityForm() {
    var form = $("identity-form");
    if (!form) { return; }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      showError("");
      var button = $("identity-submit");
      busy(button, true);
      var name = $("id-name").value.trim(), number = $("id-number").value.trim();
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
    return { name: $("helper-name").value.trim(), phone: $("helper-phone").value.trim(),
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
      identify($("confirm-name").value.trim(), $("confirm-id").value.trim(), "id_card")
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

  /* ------------------------------------------------------------ challenge + recording */

  function newChallenge() {
    showError("");
    return api("POST", "/api/v1/sessions/" + state.session.id + "/challenges").then(function (c) {
      state.challenge = c;
      var box = $("challenge-box");
      box.setAttribute("data-kind", c.kind);
      box.setAttribute("data-challenge-id", c.id);
      $("challenge-digits").hidden = c.kind !== "digits";
      $("challenge-actions").hidden = c.kind !== "actions";
      $("challenge-prompt").textContent = "";
      if (c.kind === "digits") {
        $("challenge-title").textContent = msg("web.read_digits_title");
        $("challenge-digits").textContent = c.digits.split("").join(" ");
        $("challenge-digits").setAttribute("data-digits", c.digits);
      } else {
        $("challenge-title").textContent = msg("web.actions_title");
        var list = $("challenge-actions");
        list.innerHTML = "";
        c.prompts.forEach(function (p, i) {
          var li = document.createElement("li");
          li.textContent = pick(p);
          li.setAttribute("data-action", c.actions[i]);
          list.appendChild(li);
        });
        list.setAttribute("data-actions", c.actions.join(","));
      }
      $("record-start").disabled = false;
      $("record-start").hidden = false;
      show("face");
      // Spoken before recording starts, so the prompt is not in the recording's sound.
      speak(msg("web.speak.start") + "。" + c.prompts.map(pick).join("，"));
      return c;
    }).catch(function (e) {
      showError(e.message);
      if (e.code && (e.code.indexOf("retry_cap") >= 0 || e.code === "flow.no_reference")) {
        $("decision-go").hidden = true;
        $("decision-stop").hidden = false;
        $("decision-message").textContent = e.message;
        $("decision-message").className = "decision stop";
        show("decision");
      }
    });
  }

  function pickMime() {
    if (!window.MediaRecorder || !MediaRecorder.isTypeSupported) { return ""; }
    var kinds = ["video/webm;codecs=vp8,opus", "video/webm", "video/mp4;codecs=avc1,mp4a", "video/mp4"];
    for (var i = 0; i < kinds.length; i++) { if (MediaRecorder.isTypeSupported(kinds[i])) { return kinds[i]; } }
    return "";
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

  function stopCamera() {
    if (state.stream) { state.stream.getTracks().forEach(function (t) { t.stop(); }); state.stream = null; }
    $("preview").srcObject = null;
  }

  function useFallback() {
    $("camera-error").hidden = false;
    $("fallback").classList.add("primary");
    $("record-start").hidden = true;
  }

  function record() {
    var c = state.challenge;
    if (!c || state.recording) { return; }
    state.recording = true;
    $("record-start").disabled = true;
    openCamera(c.kind === "digits").then(function (stream) {
      state.stream = stream;
      var video = $("preview");
      video.srcObject = stream;
      video.play().catch(function () {});
      var mime = pickMime();
      var recorder = new MediaRecorder(stream, mime ? { mimeType: mime } : undefined);
      var chunks = [];
      recorder.ondataavailable = function (e) { if (e.data && e.data.size) { chunks.push(e.data); } };
      recorder.onstop = function () {
        stopCamera();
        state.recording = false;
        $("rec-dot").hidden = true;
        var type = (recorder.mimeType || mime || "video/webm").split(";")[0];
        var blob = new Blob(chunks, { type: type });
        upload(blob, type.indexOf("mp4") >= 0 ? "recording.mp4" : "recording.webm");
      };
      recorder.start(500);
      $("rec-dot").hidden = false;
      $("record-start").hidden = true;
      $("challenge-prompt").textContent = msg("web.recording");
      schedulePrompts(c);
      setTimeout(function () { if (recorder.state !== "inactive") { recorder.stop(); } }, c.record_seconds * 1000);
    }).catch(function () {
      state.recording = false;
      useFallback();
    });
  }

  function schedulePrompts(c) {
    if (c.kind !== "actions") { return; }
    var step = (c.record_seconds * 1000) / (c.actions.length + 0.5);
    var items = $("challenge-actions").children;
    c.prompts.forEach(function (p, i) {
      setTimeout(function () {
        Array.prototype.forEach.call(items, function (li, j) { li.classList.toggle("now", i === j); });
        $("challenge-prompt").textContent = pick(p);
        speak(pick(p));
      }, 400 + i * step);
    });
  }

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
      poll();
    }).catch(function (e) {
      showError(e.message);
      newChallenge(); // the refused upload changed nothing; a fresh challenge lets them try again
    });
  }

  function poll() {
    api("GET", "/api/v1/jobs/" + state.job.id).then(function (job) {
      state.job = job;
      $("progress-bar").value = Math.max(10, job.progress);
      if (job.state === "decided") { return loadResult(); }
      setTimeout(poll, 800);
    }).catch(function () { setTimeout(poll, 2000); });
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
    return api("GET", "/api/v1/sessions/" + state.session.id + "/result").then(function (r) {
      state.result = r;
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
      listInto($("result-advice"), r.advice);
      $("result-advice-box").hidden = !r.advice.length;
      listInto($("result-offline"), r.offline_channels);
      $("result-offline-box").hidden = !r.offline_channels.length;
      $("retry").hidden = !r.retry_allowed;
      $("result-attempts").hidden = !r.retry_allowed;
      $("result-attempts").textContent = msg("web.attempts_left", { n: r.attempts_left });
      $("result-repeat").hidden = r.outcome !== "passed";
      show("result");
      speak(pick(r.message));
    });
  }

  /* ------------------------------------------------------------ pages */

  function initChannel() {
    bindIdentityForm();
    bindCardForm();
    bindScan();
    $("start-face").addEventListener("click", newChallenge);
    $("record-start").addEventListener("click", record);
    $("retry").addEventListener("click", newChallenge);
    $("fallback-video").addEventListener("change", function () {
      var f = $("fallback-video").files[0];
      if (f && state.challenge) { upload(f, f.name || "recording.mp4"); }
    });
    if (PC.channel === "alipay") {
      show("choose");
      $("choose-self").addEventListener("click", function () {
        state.mode = "self"; $("helper-fields").hidden = true; show("identity");
      });
      $("choose-other").addEventListener("click", function () {
        state.mode = "proxy"; $("helper-fields").hidden = false; show("identity");
      });
    } else if (PC.channel === "wechat") {
      startSession("self").then(function () { show("idcard"); }).catch(function (e) { showError(e.message); });
    } else {
      show("identity");
    }
  }

  function initQuery() {
    $("query-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      showError("");
      var button = $("query-submit");
      busy(button, true);
      api("POST", "/api/v1/queries/history", { name: $("q-name").value.trim(), id_number: $("q-id").value.trim() })
        .then(function (r) {
          $("query-result").hidden = false;
          $("query-decision").textContent = pick(r.decision.message);
          $("query-decision").setAttribute("data-code", r.decision.code);
          var body = $("query-history").querySelector("tbody");
          body.innerHTML = "";
          r.history.forEach(function (h) {
            var tr = document.createElement("tr");
            [h.date, msg("channel." + h.channel + ".name") === "channel." + h.channel + ".name" ? h.channel
              : msg("channel." + h.channel + ".name"), pick(h.result_message) + (h.proxy ? " " + msg("web.history_proxy") : "")]
              .forEach(function (text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); });
            tr.setAttribute("data-result", h.result);
            body.appendChild(tr);
          });
          $("query-history").hidden = !r.history.length;
          $("query-history-empty").hidden = !!r.history.length;
        }).catch(function (e) { $("query-result").hidden = true; showError(e.message); })
        .then(function () { busy(button, false); });
    });
  }

  if (PC.page === "channel") { initChannel(); } else if (PC.page === "query") { initQuery(); }
})();
