// The rcmedia player: hls.js on an HLS master playlist (live, catch-up or on demand), or the
// browser's own HLS where hls.js cannot run (Safari on iOS has no MediaSource).
// window.rcmediaPlayer is what the browser tests read: every hls.js error, the last fatal one,
// and the discontinuity counter (frag.cc) of every fragment the player switched to.
(() => {
  "use strict";

  const HLS_TYPE = "application/vnd.apple.mpegurl";
  const config = JSON.parse(document.getElementById("player-config").textContent);
  const video = document.getElementById("player");
  const message = document.getElementById("player-message");
  const player = { hls: null, video, errors: [], fatal: null, discontinuities: [], fragments: [], source: null };
  window.rcmediaPlayer = player;

  function show(text) {
    message.textContent = text;
    message.hidden = false;
  }

  function play() {
    video.muted = true; // browsers only autoplay muted video
    const started = video.play();
    if (started) {
      started.catch(() => {}); // autoplay refused: the controls are there
    }
  }

  function attachHls(source) {
    const hls = new window.Hls();
    let recovered = false;
    player.hls = hls;
    hls.on(window.Hls.Events.MANIFEST_PARSED, play);
    hls.on(window.Hls.Events.FRAG_CHANGED, (_event, data) => {
      player.discontinuities.push(data.frag.cc);
      player.fragments.push(data.frag.url);
    });
    hls.on(window.Hls.Events.ERROR, (_event, data) => {
      const error = {
        type: data.type,
        details: data.details,
        fatal: Boolean(data.fatal),
        at: video.currentTime,
        url: (data.frag && data.frag.url) || data.url || null,
      };
      player.errors.push(error);
      if (!data.fatal) {
        return; // hls.js retries these itself
      }
      player.fatal = error;
      // hls.js's documented recovery, once: load again after a network error (the master itself
      // when that is what failed), rebuild the media pipeline after a decode error. A second
      // fatal error ends playback with a message.
      if (!recovered && data.type === window.Hls.ErrorTypes.NETWORK_ERROR) {
        recovered = true;
        if (String(data.details).startsWith("manifest")) {
          setTimeout(() => {
            if (player.hls === hls) {
              hls.loadSource(source); // unless another source was chosen meanwhile
            }
          }, 1000);
        } else {
          hls.startLoad();
        }
        return;
      }
      if (!recovered && data.type === window.Hls.ErrorTypes.MEDIA_ERROR) {
        recovered = true;
        hls.recoverMediaError();
        return;
      }
      hls.destroy();
      player.hls = null;
      show(`播放失败 playback failed: ${data.details}`);
    });
    hls.loadSource(source);
    hls.attachMedia(video);
  }

  function load(source) {
    if (player.hls) {
      player.hls.destroy();
      player.hls = null;
    }
    player.source = source;
    if (window.Hls && window.Hls.isSupported()) {
      message.hidden = true;
      attachHls(source);
    } else if (video.canPlayType(HLS_TYPE)) {
      video.src = source;
      play();
    } else {
      show(window.Hls ? "this browser cannot play HLS" : "player script not installed: run make");
    }
  }

  // Replay links and "back to live" play in this player; their href still works without script.
  const label = document.getElementById("playing-label");
  const backToLive = document.getElementById("back-to-live");

  function switchTo(link) {
    load(link.dataset.src);
    if (label) {
      label.textContent = link.dataset.label;
    }
    if (backToLive) {
      backToLive.hidden = link === backToLive;
    }
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-src]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    switchTo(link);
    history.pushState({ href: link.href }, "", link.href);
    video.scrollIntoView({ behavior: "smooth", block: "nearest" });
  });

  window.addEventListener("popstate", () => {
    const link = [...document.querySelectorAll("a[data-src]")].find((a) => a.href === location.href);
    if (link) {
      switchTo(link);
    } else {
      location.reload();
    }
  });

  // The guide marks the programme on now as time passes, on the server's clock (the page says
  // when it was made) so that a viewer's wrong clock does not move the mark.
  const offset = config.serverNow ? config.serverNow * 1000 - Date.now() : 0;
  const rows = [...document.querySelectorAll(".programme[data-start]")];

  function describe(row) {
    return `${row.querySelector("time").textContent} ${row.querySelector(".title").textContent}`;
  }

  function markNow() {
    const now = (Date.now() + offset) / 1000;
    let onNow = null;
    let next = null;
    for (const row of rows) {
      const on = Number(row.dataset.start) <= now && now < Number(row.dataset.end);
      row.classList.toggle("on-now", on);
      if (on) {
        row.setAttribute("aria-current", "true");
        onNow = row;
      } else {
        row.removeAttribute("aria-current");
      }
      if (!next && Number(row.dataset.start) > now) {
        next = row;
      }
    }
    if (config.guideIsToday) {
      document.getElementById("now").textContent = onNow ? describe(onNow) : "—";
      if (next) {
        document.getElementById("next").textContent = describe(next);
      }
    }
  }

  if (rows.length) {
    setInterval(markNow, 5000);
  }
  load(config.source);
})();
