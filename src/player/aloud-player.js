// aloud-player.js: the <aloud-player> web component, a read-along player for a narration made
// by aloud. Plain JS, no dependencies, nothing fetched but the two files it is given. Embed:
//   script element with src="aloud-player.js" (defer), then
//   <aloud-player src="story.mp3" timeline="story.timeline.json"></aloud-player>
// The timeline may instead be a child script element of type application/json (aloud's
// OUT.html inlines it: a page opened from file:// may not fetch). Style it from outside with
// --aloud-accent, --aloud-fg, --aloud-bg, --aloud-muted, --aloud-line, --aloud-highlight,
// --aloud-transcript-height, and ::part(player|title|track|transcript).
// (No literal script tags in this file: aloud inlines it in a page's script element.)
(() => {
  'use strict';
  if (!window.customElements || customElements.get('aloud-player')) return;

  // Media clocks count in microseconds: a sentence seeked to at its start may read as a hair
  // before it.
  const EPS = 0.001;
  const SPEEDS = [0.75, 1, 1.25, 1.5, 1.75, 2];
  const CSS = `
:host{--a:var(--aloud-accent,#0b57d0);--fg:var(--aloud-fg,#1b1b1f);--bg:var(--aloud-bg,#fff);
--mu:var(--aloud-muted,#5f6368);--ln:var(--aloud-line,#d3d6db);--hl:var(--aloud-highlight,#fde68a);
display:block;color:var(--fg);background:var(--bg);border:1px solid var(--ln);border-radius:12px;
padding:1rem;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;text-align:left}
@media(prefers-color-scheme:dark){:host{--a:var(--aloud-accent,#a8c7fa);--fg:var(--aloud-fg,#e3e3e8);
--bg:var(--aloud-bg,#1e1f22);--mu:var(--aloud-muted,#a6a9b0);--ln:var(--aloud-line,#44474d);
--hl:var(--aloud-highlight,#6b5700)}}
:host([hidden]){display:none}
*{box-sizing:border-box}
button,select{font:inherit;color:inherit;cursor:pointer}
:focus-visible{outline:2px solid var(--a);outline-offset:2px}
.top{display:flex;gap:.75rem;align-items:center}
.play{flex:none;width:3rem;height:3rem;border:0;border-radius:50%;background:var(--a);color:var(--bg);
display:grid;place-items:center}
.play svg{width:1.5rem;height:1.5rem;fill:currentColor}
.play.on .pi,.play:not(.on) .pa{display:none}
.title{margin:0;font-size:1.125rem;font-weight:650;line-height:1.3}
.top>div{min-width:0}
.now{margin:0;color:var(--mu);font-size:.875rem;min-height:1.3em;white-space:nowrap;overflow:hidden;
text-overflow:ellipsis}
.seek{position:relative;height:1.5rem;margin-top:.75rem}
.track{position:absolute;left:.5rem;right:.5rem;top:.5625rem;height:.375rem;border-radius:3px;
background:var(--ln);overflow:hidden}
.fill{height:100%;width:0;background:var(--a)}
.tick{position:absolute;top:0;bottom:0;width:2px;margin-left:-1px;background:var(--bg)}
input{position:absolute;inset:0;width:100%;height:100%;margin:0;background:none;
-webkit-appearance:none;appearance:none}
input::-webkit-slider-runnable-track{height:100%;background:none}
input::-webkit-slider-thumb{-webkit-appearance:none;width:1rem;height:1rem;margin-top:.25rem;
border:2px solid var(--bg);border-radius:50%;background:var(--a)}
input::-moz-range-track{background:none}
input::-moz-range-thumb{width:1rem;height:1rem;border:2px solid var(--bg);border-radius:50%;
background:var(--a)}
.times{display:flex;justify-content:space-between;margin-bottom:.5rem;color:var(--mu);
font-size:.875rem;font-variant-numeric:tabular-nums}
.row{display:flex;flex-wrap:wrap;gap:.5rem}
.btn,select{min-height:2.5rem;padding:0 .75rem;border:1px solid var(--ln);border-radius:999px;
background:var(--bg)}
.btn:hover,select:hover{border-color:var(--a)}
.ch{margin:.75rem 0 0;padding:0;list-style:none;border-top:1px solid var(--ln)}
.ch button{display:flex;gap:.5rem;width:100%;min-height:2.5rem;padding:.375rem .5rem;border:0;
border-bottom:1px solid var(--ln);background:none;text-align:left}
.ch button span:first-child{flex:1}
.ch button[aria-current]{box-shadow:inset 3px 0 var(--a);color:var(--a)}
.ct{color:var(--mu);font-variant-numeric:tabular-nums}
.tx{position:relative;height:var(--aloud-transcript-height,16rem);overflow-y:auto;
overscroll-behavior:contain;margin-top:.75rem;padding:0 .5rem;border-top:1px solid var(--ln);
overflow-wrap:anywhere}
.tx h3{margin:1rem 0 .25rem;font-size:1rem}
.tx p{margin:0 0 .75rem}
.s{border-radius:3px;cursor:pointer;-webkit-box-decoration-break:clone;box-decoration-break:clone;
transition:background-color .2s}
.s:hover{text-decoration:underline;text-decoration-color:var(--mu)}
.s.current{background:var(--hl)}
.keys{margin:.5rem 0 0;color:var(--mu);font-size:.8125rem}
@media(pointer:coarse){.keys{display:none}}
.err{margin:.5rem 0 0;color:#c5221f;font-weight:600}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
@media(prefers-reduced-motion:reduce){.s{transition:none}}`;
  const HTML = `
<div part="player" role="group">
<div class="top">
<button class="play" type="button" aria-label="Play"><svg viewBox="0 0 24 24" aria-hidden="true">
<path class="pi" d="M8 5v14l11-7z"/><path class="pa" d="M6 5h4v14H6zm8 0h4v14h-4z"/></svg></button>
<div><p class="title" part="title" role="heading"></p><p class="now"></p></div>
</div>
<div class="seek"><div class="track" part="track"><div class="fill"></div></div>
<input type="range" min="0" max="0" step="any" value="0" aria-label="Seek"></div>
<div class="times"><span><span class="vh">Elapsed </span><span class="el">0:00</span></span>
<span><span class="vh">Remaining </span><span class="rv">−0:00</span></span></div>
<div class="row">
<button class="btn" type="button" data-skip="-15" aria-label="Back 15 seconds">−15 s</button>
<button class="btn" type="button" data-skip="15" aria-label="Forward 15 seconds">+15 s</button>
<select aria-label="Playback speed">${SPEEDS.map(s =>
    `<option value="${s}"${s === 1 ? ' selected' : ''}>${s}×</option>`).join('')}</select>
</div>
<ol class="ch" aria-label="Chapters" hidden></ol>
<div class="tx" part="transcript" role="region" aria-label="Transcript" tabindex="0"
 aria-describedby="keys"></div>
<p class="keys" id="keys">Keys: Space play or pause · ← → 5 seconds · ↑ ↓ sentence</p>
<p class="err" role="alert" hidden></p>
<audio preload="metadata"></audio>
</div>`;

  // 83.4 -> "1:23", 3725 -> "1:02:05".
  const clock = t => {
    t = Math.max(0, Math.floor(t) || 0);
    const h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, s = String(t % 60).padStart(2, '0');
    return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
  };
  // For screen readers: 65 -> "1 minute 5 seconds".
  const spoken = t => {
    t = Math.max(0, Math.floor(t) || 0);
    const unit = (n, w) => `${n} ${w}${n === 1 ? '' : 's'}`, m = Math.floor(t / 60);
    return (m ? unit(m, 'minute') + ' ' : '') + unit(t % 60, 'second');
  };
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    e.append(...kids);
    return e;
  };
  // The last item (sentence or chapter) starting at or before t; -1 before the first.
  const find = (list, t) => {
    let lo = 0, hi = list.length - 1, at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].start <= t + EPS) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return at;
  };
  const sheet = (() => {
    try { const s = new CSSStyleSheet(); s.replaceSync(CSS); return s; } catch (e) { return null; }
  })();
  // Playing one player pauses the others on the page.
  const players = new Set();

  class AloudPlayer extends HTMLElement {
    static get observedAttributes() { return ['src', 'timeline']; }

    connectedCallback() {
      players.add(this);
      if (this.shadowRoot) return;
      const r = this.attachShadow({ mode: 'open' });
      // A constructed sheet passes a page's Content-Security-Policy that forbids inline styles.
      if (sheet) r.adoptedStyleSheets = [sheet];
      r.innerHTML = (sheet ? '' : `<style>${CSS}</style>`) + HTML;
      const $ = s => r.querySelector(s);
      Object.assign(this, {
        a: $('audio'), $play: $('.play'), $title: $('.title'), $now: $('.now'), $range: $('input'),
        $fill: $('.fill'), $track: $('.track'), $el: $('.el'), $rem: $('.rv'), $speed: $('select'),
        $ch: $('.ch'), $tx: $('.tx'), $err: $('.err'), $box: $('[part=player]'),
        sentences: [], chapters: [], spans: [], buttons: [], total: 0, cur: -1, curCh: -1,
        scrolledAt: 0
      });
      const a = this.a;
      this.$play.onclick = () => (a.paused ? this.play() : this.pause());
      r.querySelectorAll('[data-skip]').forEach(b => {
        b.onclick = () => this.seek(a.currentTime + Number(b.dataset.skip));
      });
      this.$speed.onchange = () => { a.playbackRate = a.defaultPlaybackRate = Number(this.$speed.value); };
      this.$range.oninput = () => this.seek(Number(this.$range.value));
      // While the thumb is held, playback does not pull it back; the pointer may be let go
      // anywhere.
      this.$range.onpointerdown = () => {
        this.dragging = true;
        const done = () => { this.dragging = false; };
        addEventListener('pointerup', done, { once: true });
        addEventListener('pointercancel', done, { once: true });
      };
      this.$ch.onclick = e => {
        const b = e.target.closest('button');
        if (b) this.seek(this.chapters[Number(b.dataset.c)].start);
      };
      this.$tx.onclick = e => {
        const s = e.target.closest('.s'), sel = r.getSelection ? r.getSelection() : getSelection();
        // Selecting text to copy it is not a request to jump there (a plain click has already
        // collapsed any selection when it arrives).
        if (s && (!sel || sel.isCollapsed)) {
          this.seek(this.sentences[Number(s.dataset.i)].start);
        }
      };
      // While the reader scrolls the transcript, it stops following the voice for a while.
      const scrolled = () => { this.scrolledAt = Date.now(); };
      this.$tx.addEventListener('wheel', scrolled, { passive: true });
      this.$tx.addEventListener('touchmove', scrolled, { passive: true });
      this.$tx.addEventListener('keydown', e => { if (/^Page|^Home|^End/.test(e.key)) scrolled(); });
      r.addEventListener('keydown', e => this.key(e));
      for (const n of ['pause', 'timeupdate', 'seeked', 'seeking', 'durationchange', 'ended']) {
        a.addEventListener(n, () => this.update());
      }
      a.addEventListener('play', () => {
        for (const p of players) if (p !== this) p.pause();
        this.tick();
      });
      a.addEventListener('error', () => this.fail(`The audio could not be loaded (${this.getAttribute('src')}).`));
      if (this.hasAttribute('src')) a.src = this.getAttribute('src');
      else this.fail('give the player a src="OUT.mp3" attribute');
      // Parsed before its children (the script was loaded in <head>): wait for them.
      if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', () => this.load(), { once: true });
      } else this.load();
    }

    disconnectedCallback() {
      players.delete(this);
      if (this.a) this.a.pause();
    }

    attributeChangedCallback(name, old, value) {
      if (!this.a || old === value) return;
      if (name === 'src') this.a.src = value || '';
      else this.load();
    }

    /** The <audio> element, for a page's own listeners (analytics, ...). */
    get audio() { return this.a; }

    play() {
      const p = this.a.play();
      // Autoplay refused, or a pause before playback started: nothing to report.
      if (p) p.catch(e => { if (e.name !== 'AbortError' && e.name !== 'NotAllowedError') this.fail(`Playback failed: ${e.message}`); });
    }

    pause() { if (this.a) this.a.pause(); }

    seek(t) {
      this.a.currentTime = Math.min(Math.max(0, t), this.duration());
      this.scrolledAt = 0;
      this.update();
    }

    duration() {
      const d = this.a.duration;
      return Number.isFinite(d) && d > 0 ? d : this.total;
    }

    async load() {
      const inline = this.querySelector('script[type="application/json"]');
      const url = this.getAttribute('timeline');
      try {
        let data;
        if (inline) data = JSON.parse(inline.textContent);
        else if (url) {
          const res = await fetch(url);
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          data = await res.json();
        } else throw new Error('give the player a timeline="OUT.timeline.json" attribute');
        this.render(data);
      } catch (e) {
        this.fail(`The transcript could not be loaded (${url || 'inline timeline'}): ${e.message}`);
      }
    }

    render(d) {
      const S = Array.isArray(d.sentences) ? d.sentences : [];
      const C = Array.isArray(d.chapters) ? d.chapters : [];
      const level = Number(this.getAttribute('heading-level')) || 2;
      Object.assign(this, { sentences: S, chapters: C, total: Number(d.duration) || 0, cur: -1, curCh: -1 });
      this.$title.textContent = d.title || '';
      this.$title.setAttribute('aria-level', level);
      this.$box.setAttribute('aria-label', `Listen: ${d.title || 'audio'}`);

      this.$ch.textContent = '';
      this.$ch.hidden = C.length < 2;
      this.buttons = C.map((c, i) => {
        const b = el('button', { type: 'button', 'data-c': i, 'aria-label': `Chapter ${i + 1}: ${c.title}, at ${clock(c.start)}` },
          el('span', {}, String(c.title ?? '')), el('span', { class: 'ct' }, clock(c.start)));
        this.$ch.append(el('li', {}, b));
        return b;
      });
      this.$track.querySelectorAll('.tick').forEach(t => t.remove());
      for (const c of C.slice(1)) {
        const tick = el('i', { class: 'tick' });
        tick.style.left = `${this.total ? (c.start / this.total) * 100 : 0}%`;
        this.$track.append(tick);
      }

      // Sentences grouped by chapter, in headings and paragraphs. Timelines from before aloud
      // recorded `starts` are laid out by guess: a chapter opening with its own title is its
      // heading, and a pause longer than between sentences starts a paragraph.
      const recorded = S.some(s => s.starts);
      const tx = this.$tx;
      tx.textContent = '';
      let ci = -1, group = null, p = null, prevEnd = 0;
      this.spans = S.map((s, i) => {
        let opensChapter = false;
        while (ci + 1 < C.length && C[ci + 1].start <= s.start + EPS) { ci++; opensChapter = true; }
        if (opensChapter || !group) { group = el('div'); tx.append(group); p = null; }
        const span = el('span', { class: 's', 'data-i': i }, String(s.text ?? ''));
        const heading = recorded ? s.starts === 'heading'
          : opensChapter && String(s.text).trim() === String(C[ci].title).trim();
        if (heading) {
          group.append(el('h3', { role: 'heading', 'aria-level': level + 1 }, span));
          p = null;
        } else {
          if (!p || (recorded ? s.starts === 'paragraph' : s.start - prevEnd > 0.45)) {
            p = el('p');
            group.append(p);
          }
          p.append(span, ' ');
        }
        prevEnd = s.end;
        return span;
      });
      this.update();
    }

    // Playback moves the highlight every frame, not only at the 4 Hz of `timeupdate`.
    tick() {
      this.update();
      if (!this.a.paused) requestAnimationFrame(() => this.tick());
    }

    update() {
      const a = this.a, t = a.currentTime, d = this.duration();
      this.$play.classList.toggle('on', !a.paused);
      this.show(this.$play, 'aria-label', a.paused ? 'Play' : 'Pause');
      this.show(this.$range, 'max', d);
      if (!this.dragging) this.$range.value = t;
      this.show(this.$range, 'aria-valuetext', `${spoken(t)} of ${spoken(d)}`);
      this.$fill.style.width = `${d ? Math.min(100, (t / d) * 100) : 0}%`;
      this.show(this.$el, 'textContent', clock(t));
      this.show(this.$rem, 'textContent', `−${clock(Math.floor(d) - Math.floor(t))}`);
      const i = find(this.sentences, t);
      if (i !== this.cur) this.mark(i);
      const c = find(this.chapters, t);
      if (c !== this.curCh) {
        this.buttons.forEach((b, n) => (n === c ? b.setAttribute('aria-current', 'true') : b.removeAttribute('aria-current')));
        const ch = this.chapters[c];
        this.$now.textContent = ch && this.chapters.length > 1 ? `Chapter ${c + 1} of ${this.chapters.length}: ${ch.title}` : '';
        this.curCh = c;
      }
    }

    // Sets a property or attribute only when it changes: no needless style or layout work.
    show(node, key, value) {
      const memo = node.aloudShown || (node.aloudShown = {});
      if (memo[key] === value) return;
      memo[key] = value;
      if (key === 'textContent') node.textContent = value;
      else node.setAttribute(key, value);
    }

    mark(i) {
      const old = this.spans[this.cur];
      if (old) { old.classList.remove('current'); old.removeAttribute('aria-current'); }
      this.cur = i;
      const s = this.spans[i];
      if (!s) return;
      s.classList.add('current');
      s.setAttribute('aria-current', 'true');
      this.follow(s);
    }

    // Keeps the spoken sentence in the upper part of the transcript by scrolling the transcript
    // alone (never the page, never the focus), unless the reader scrolled it a moment ago.
    follow(s) {
      const box = this.$tx, h = box.clientHeight, y = box.scrollTop, top = s.offsetTop;
      if (!h || Date.now() - this.scrolledAt < 4000) return;
      if (top >= y + h * 0.1 && top + s.offsetHeight <= y + h * 0.75) return;
      const calm = matchMedia('(prefers-reduced-motion: reduce)').matches;
      box.scrollTo({ top: top - h * 0.25, behavior: calm ? 'auto' : 'smooth' });
    }

    key(e) {
      if (e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) return;
      const tag = e.target.tagName, a = this.a;
      if (tag === 'SELECT') return;
      switch (e.key) {
        case ' ': case 'k': case 'K':
          if (tag === 'BUTTON') return; // Space presses the focused button instead.
          if (a.paused) this.play(); else this.pause();
          break;
        case 'ArrowLeft': case 'ArrowRight':
          this.seek(a.currentTime + (e.key === 'ArrowLeft' ? -5 : 5));
          break;
        case 'ArrowUp': case 'ArrowDown': {
          // Up: back to the start of this sentence, or the one before if it just began.
          const S = this.sentences, i = this.cur;
          if (!S.length) return;
          const back = i >= 0 && a.currentTime - S[i].start > 1 ? i : i - 1;
          const to = e.key === 'ArrowUp' ? Math.max(0, back) : Math.min(S.length - 1, i + 1);
          this.seek(S[to].start);
          break;
        }
        case 'Home': case 'End':
          if (tag !== 'INPUT') return;
          this.seek(e.key === 'Home' ? 0 : this.duration());
          break;
        default:
          return;
      }
      e.preventDefault();
    }

    fail(message) {
      this.$err.textContent = message;
      this.$err.hidden = false;
      console.error(`aloud-player: ${message}`);
    }
  }

  customElements.define('aloud-player', AloudPlayer);
})();
