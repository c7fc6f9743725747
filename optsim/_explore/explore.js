/* optsim explorer: the page's plotting layer (plain SVG, no library, nothing fetched). */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("optsim-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var CODES = 65531, ZERO = 65532, NEG_INF = 65533, POS_INF = 65534;

  // -- decoding (the inverse of optsim._explore_data.encode) ----------------------------------
  function bytes(b64) {
    var s = atob(b64), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function decode(blob) {
    var u8 = bytes(blob.b64), dv = new DataView(u8.buffer), n, out, i;
    if (blob.enc === "f32") {
      n = u8.length / 4; out = new Float64Array(n);
      for (i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    }
    n = u8.length / 2; out = new Float64Array(n);
    var lo = blob.lo, span = blob.hi - blob.lo, log = blob.enc === "log16";
    for (i = 0; i < n; i++) {
      var c = dv.getUint16(2 * i, true), v;
      if (c <= CODES) { v = lo + (c / CODES) * span; if (log) v = Math.pow(10, v); }
      else if (c === ZERO) v = 0;
      else if (c === NEG_INF) v = -Infinity;
      else if (c === POS_INF) v = Infinity;
      else v = NaN;
      out[i] = v;
    }
    return out;
  }

  var X = D.x.values, S = X.length;
  var CTL = {};
  D.controls.forEach(function (c) { CTL[c.dim] = c; });
  var VARS = {};
  D.variables.forEach(function (v) {
    v.bandData = decode(v.bands);
    v.repData = v.reps ? decode(v.reps) : null;
    var pos = true, any = false, lo = Infinity, hi = -Infinity;
    for (var i = 0; i < v.bandData.length; i++) {
      var y = v.bandData[i];
      if (!isFinite(y)) continue;
      any = true;
      if (y <= 0) pos = false; else { lo = Math.min(lo, y); hi = Math.max(hi, y); }
    }
    v.positive = any && pos;
    v.logDefault = v.positive && hi / lo > 30;
    VARS[v.name] = v;
  });
  var T = D.trajectories;
  if (T) { T.X = decode(T.x); T.Y = decode(T.y); }
  var C = D.contours;

  var state = {
    var: D.var, idx: {}, compare: D.compare, logx: false, logy: VARS[D.var].logDefault, reps: 0,
    paths: T ? Math.min(3, T.count) : 0, step: S - 1, playing: false
  };
  D.controls.forEach(function (c) {
    state.idx[c.dim] = (c.dim in D.start) ? D.start[c.dim] : Math.floor((c.labels.length - 1) / 2);
  });

  // -- cells -----------------------------------------------------------------------------------
  function offset(dims, idx, inner) {  // flat index of a cell of an array (*dims, ...inner)
    var off = 0;
    for (var k = 0; k < dims.length; k++) off = off * CTL[dims[k]].labels.length + idx[dims[k]];
    return off * inner;
  }
  function overlay(dims) {  // the values of the overlaid dimension, or [null]
    var d = state.compare;
    if (!d || dims.indexOf(d) < 0 || CTL[d].labels.length < 2) return [null];
    var out = [];
    for (var j = 0; j < CTL[d].labels.length; j++) out.push(j);
    return out;
  }
  function legendLabel(c, j) {  // "adam", "beta1=0.9, beta2=0.99", "mu = 10"
    var text = c.labels[j];
    return c.dim === "optimizer" || text.indexOf("=") >= 0 ? text : c.label + " = " + text;
  }
  function soleColor(dims, idx) {  // one series: the optimizer's colour when there is one
    return CTL.optimizer && dims.indexOf("optimizer") >= 0 ? CTL.optimizer.colors[idx.optimizer] : "#0072B2";
  }
  function series() {
    var v = VARS[state.var], out = [];
    var cells = overlay(v.dims);
    cells.forEach(function (j, n) {
      var idx = Object.assign({}, state.idx);
      if (j !== null) idx[state.compare] = j;
      var o = offset(v.dims, idx, 3 * S), s = {
        lo: v.bandData.subarray(o, o + S), mid: v.bandData.subarray(o + S, o + 2 * S),
        hi: v.bandData.subarray(o + 2 * S, o + 3 * S), reps: [], idx: idx,
        label: j === null ? v.label : legendLabel(CTL[state.compare], j),
        color: j !== null ? CTL[state.compare].colors[j] : soleColor(v.dims, idx)
      };
      if (v.repData && state.reps > 0) {
        var r0 = offset(v.dims, idx, v.replicates * S);
        for (var r = 0; r < Math.min(state.reps, v.replicates); r++) s.reps.push(v.repData.subarray(r0 + r * S, r0 + (r + 1) * S));
      }
      out.push(s);
    });
    return out;
  }

  // -- scales, ticks, SVG ------------------------------------------------------------------------
  function el(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function scale(d0, d1, r0, r1, log) {
    var f = log ? Math.log10 : function (v) { return v; }, a = f(d0), b = f(d1);
    var s = function (v) { return r0 + (f(v) - a) / (b - a) * (r1 - r0); };
    s.log = log; s.d0 = d0; s.d1 = d1;
    return s;
  }
  function fmt(v) {
    if (v === 0) return "0";
    var a = Math.abs(v);
    if (a >= 1e6 || a < 1e-3) { var e = Math.floor(Math.log10(a)), m = v / Math.pow(10, e);
      return (Math.abs(Math.abs(m) - 1) < 1e-9 ? (m < 0 ? "-" : "") : +m.toPrecision(2) + "\u00d7") + "10" + sup(e); }
    return String(+v.toPrecision(4));
  }
  function sup(e) {
    var map = {"-": "\u207b", "0": "\u2070", "1": "\u00b9", "2": "\u00b2", "3": "\u00b3", "4": "\u2074",
               "5": "\u2075", "6": "\u2076", "7": "\u2077", "8": "\u2078", "9": "\u2079"};
    return String(e).split("").map(function (ch) { return map[ch]; }).join("");
  }
  function ticks(s) {
    var d0 = s.d0, d1 = s.d1, out = [];
    if (s.log) {
      var e0 = Math.floor(Math.log10(d0)), e1 = Math.ceil(Math.log10(d1)), every = Math.max(1, Math.ceil((e1 - e0) / 7));
      for (var e = e0; e <= e1; e += every) {
        var t = Math.pow(10, e);
        if (t >= d0 * 0.999 && t <= d1 * 1.001) out.push(t);
        if (e1 - e0 <= 3) [2, 5].forEach(function (m) { var u = m * t; if (u >= d0 && u <= d1) out.push(u); });
      }
      if (out.length < 2) { out = [d0, d1]; }
      return out.sort(function (a, b) { return a - b; });
    }
    var span = d1 - d0, step = Math.pow(10, Math.floor(Math.log10(span / 5))), r = span / 5 / step;
    step *= r > 5 ? 10 : r > 2 ? 5 : r > 1 ? 2 : 1;
    for (var t2 = Math.ceil(d0 / step) * step; t2 <= d1 + step * 1e-9; t2 += step) out.push(Math.abs(t2) < step * 1e-9 ? 0 : t2);
    return out;
  }
  function domain(values, log) {
    var lo = Infinity, hi = -Infinity;
    values.forEach(function (arr) {
      for (var i = 0; i < arr.length; i++) {
        var v = arr[i];
        if (isFinite(v) && (!log || v > 0)) { if (v < lo) lo = v; if (v > hi) hi = v; }
      }
    });
    if (!isFinite(lo)) return log ? [1, 10] : [0, 1];
    if (log) {
      if (hi / lo < 1.0001) { lo /= 2; hi *= 2; }
      var pad = Math.pow(hi / lo, 0.04);
      return [lo / pad, hi * pad];
    }
    if (hi - lo < 1e-300 || hi - lo < 1e-12 * Math.abs(hi)) { var w = Math.abs(hi) > 0 ? Math.abs(hi) * 0.05 : 1; lo -= w; hi += w; }
    var p = (hi - lo) * 0.04;
    return [lo - p, hi + p];
  }
  function axes(svg, sx, sy, box, xlabel, ylabel) {
    var g = el("g", {"class": "grid"}, svg), ax = el("g", {"class": "axis"}, svg);
    ticks(sy).forEach(function (t) {
      var y = sy(t);
      el("line", {x1: box.l, x2: box.r, y1: y, y2: y}, g);
      el("line", {x1: box.l - 4, x2: box.l, y1: y, y2: y}, ax);
      el("text", {x: box.l - 7, y: y + 4, "text-anchor": "end"}, ax).textContent = fmt(t);
    });
    ticks(sx).forEach(function (t) {
      var x = sx(t);
      el("line", {x1: x, x2: x, y1: box.t, y2: box.b}, g);
      el("line", {x1: x, x2: x, y1: box.b, y2: box.b + 4}, ax);
      el("text", {x: x, y: box.b + 17, "text-anchor": "middle"}, ax).textContent = fmt(t);
    });
    el("path", {d: "M" + box.l + "," + box.t + "V" + box.b + "H" + box.r, fill: "none"}, ax);
    el("text", {"class": "axis-label", x: (box.l + box.r) / 2, y: box.b + 36, "text-anchor": "middle"}, svg).textContent = xlabel;
    el("text", {"class": "axis-label", transform: "translate(" + (box.l - 50) + "," + (box.t + box.b) / 2 + ") rotate(-90)",
                "text-anchor": "middle"}, svg).textContent = ylabel;
  }
  function clip(svg, id, box) {
    var cp = el("clipPath", {id: id}, el("defs", {}, svg));
    el("rect", {x: box.l, y: box.t, width: box.r - box.l, height: box.b - box.t}, cp);
    return el("g", {"clip-path": "url(#" + id + ")"}, svg);
  }
  function ok(v, log) { return isFinite(v) && (!log || v > 0); }
  function linePath(xs, ys, sx, sy, upto) {
    var d = "", pen = false;
    for (var i = 0; i <= upto; i++) {
      if (ok(xs[i], sx.log) && ok(ys[i], sy.log)) { d += (pen ? "L" : "M") + sx(xs[i]).toFixed(1) + "," + sy(ys[i]).toFixed(1); pen = true; }
      else pen = false;
    }
    return d;
  }
  function bandPath(lo, hi, sx, sy) {
    var d = "", i = 0;
    while (i < S) {
      while (i < S && !(ok(X[i], sx.log) && ok(lo[i], sy.log) && ok(hi[i], sy.log))) i++;
      var j = i;
      while (j < S && ok(X[j], sx.log) && ok(lo[j], sy.log) && ok(hi[j], sy.log)) j++;
      if (j - i >= 1) {
        var up = [], down = [];
        for (var k = i; k < j; k++) { up.push(sx(X[k]).toFixed(1) + "," + sy(hi[k]).toFixed(1)); down.push(sx(X[k]).toFixed(1) + "," + sy(lo[k]).toFixed(1)); }
        d += "M" + up.join("L") + "L" + down.reverse().join("L") + "Z";
      }
      i = j;
    }
    return d;
  }

  // -- the curves panel ----------------------------------------------------------------------------
  var W = 620, H = 410;
  function drawCurves(list) {
    var svg = document.getElementById("curves"), v = VARS[state.var];
    svg.setAttribute("width", W); svg.setAttribute("height", H); svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.textContent = "";
    var box = {l: 70, r: W - 26, t: 12, b: H - 46};
    var xd = domain([X], state.logx);
    if (!state.logx) xd = [X[0], X[S - 1] > X[0] ? X[S - 1] : X[0] + 1];
    var arrays = [];
    list.forEach(function (s) { arrays.push(s.lo, s.mid, s.hi); s.reps.forEach(function (r) { arrays.push(r); }); });
    var yd = domain(arrays, state.logy);
    if (state.logy) {  // a run on its way to diverging would squash the rest: keep 4 decades above the start
      var first = -Infinity;
      list.forEach(function (s) { for (var i = 0; i < S; i++) if (ok(s.mid[i], true)) { first = Math.max(first, s.mid[i]); break; } });
      if (isFinite(first) && yd[1] > first * 1e4) yd[1] = first * 1e4;
      if (yd[0] >= yd[1]) yd[0] = yd[1] / 10;
    }
    var sx = scale(xd[0], xd[1], box.l, box.r, state.logx), sy = scale(yd[0], yd[1], box.b, box.t, state.logy);
    axes(svg, sx, sy, box, D.x.name.replace(/_/g, " "), v.label);
    var g = clip(svg, "clip-curves", box);
    list.forEach(function (s, n) {
      el("path", {d: bandPath(s.lo, s.hi, sx, sy), fill: s.color, "fill-opacity": 0.18, stroke: "none", "class": "band", "data-series": n}, g);
    });
    list.forEach(function (s, n) {
      s.reps.forEach(function (r) {
        el("path", {d: linePath(X, r, sx, sy, S - 1), fill: "none", stroke: s.color, "stroke-width": 0.8, "stroke-opacity": 0.55, "class": "replicate", "data-series": n}, g);
      });
    });
    list.forEach(function (s, n) {
      el("path", {d: linePath(X, s.mid, sx, sy, S - 1), fill: "none", stroke: s.color, "stroke-width": 2.2, "class": "median", "data-series": n}, g);
    });
    if (T) {
      var cx = sx(X[state.step]);
      if (isFinite(cx)) el("line", {x1: cx, x2: cx, y1: box.t, y2: box.b, stroke: "#888", "stroke-dasharray": "4 3", "class": "cursor"}, g);
    }
    var qs = v.q, cap = document.getElementById("curves-caption"), legend = "";
    if (list.length > 1 || state.compare) {
      legend = "<div class=\"legend\">" + list.map(function (s) {
        var div = divergedAt(s.mid);
        return "<span><span class=\"sw\" style=\"background:" + s.color + "\"></span>" + esc(s.label) +
          (div !== null ? " <em>(median diverges at " + fmt(div) + ")</em>" : "") + "</span>";
      }).join("") + "</div>";
    }
    var what = v.nrep > 1 ? "median (line) and " + pct(qs[0]) + "\u2013" + pct(qs[2]) + "% band over " + v.nrep + " replicates"
      : (v.replicates === 0 && v.nrep === 0 ? "quantiles " + qs.join(", ") + " of the reduced result" : "one run per setting");
    cap.innerHTML = legend + esc(v.label) + ": " + what + (state.reps > 0 && v.replicates ? "; thin lines: " + Math.min(state.reps, v.replicates) + " individual replicates" : "") +
      (D.x.total > S ? ". " + S + " of " + D.x.total + " recorded points shown" : "") + ".";
  }
  function pct(q) { return +(100 * q).toPrecision(3); }
  function divergedAt(mid) { for (var i = 0; i < S; i++) if (mid[i] === Infinity) return X[i]; return null; }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;"}[c]; }); }

  // -- the trajectories panel -------------------------------------------------------------------------
  var PW = 450, PH = 410;
  function pathCells() {
    var cells = overlay(T.dims);
    return cells.map(function (j) {
      var idx = Object.assign({}, state.idx);
      if (j !== null) idx[state.compare] = j;
      return {o: offset(T.dims, idx, T.count * S), color: j === null ? soleColor(T.dims, idx) : CTL[state.compare].colors[j],
              label: j === null ? "" : legendLabel(CTL[state.compare], j)};
    });
  }
  function drawPaths() {
    var svg = document.getElementById("paths");
    document.getElementById("paths-fig").hidden = false;
    svg.setAttribute("width", PW); svg.setAttribute("height", PH); svg.setAttribute("viewBox", "0 0 " + PW + " " + PH);
    svg.textContent = "";
    var box = {l: 62, r: PW - 22, t: 12, b: PH - 46}, cells = pathCells(), bx = T.box;
    var sx = scale(bx[0], bx[1], box.l, box.r, false), sy = scale(bx[2], bx[3], box.b, box.t, false);
    axes(svg, sx, sy, box, C ? C.xname : T.names[0], C ? C.yname : T.names[1]);
    var g = clip(svg, "clip-paths", box);
    if (C) {
      el("image", {href: C.image, x: box.l, y: box.t, width: box.r - box.l, height: box.b - box.t, preserveAspectRatio: "none", "class": "surface"}, g);
      var pts = new DataView(bytes(C.points).buffer), cg = el("g", {"class": "contours", fill: "none", stroke: "#5a5a5a", "stroke-width": 0.6}, g);
      C.lines.forEach(function (ln) {
        var d = "";
        for (var i = 0; i < ln[2]; i++) {
          var k = ln[1] + i, px = pts.getUint16(4 * k, true) / CODES, py = pts.getUint16(4 * k + 2, true) / CODES;
          d += (i ? "L" : "M") + (box.l + px * (box.r - box.l)).toFixed(1) + "," + (box.b - py * (box.b - box.t)).toFixed(1);
        }
        el("path", {d: d}, cg);
      });
    }
    var shown = Math.max(1, Math.min(state.paths, T.count));
    cells.forEach(function (c, n) {
      for (var r = shown - 1; r >= 0; r--) {
        var base = c.o + r * S, d = "", pen = false, head = null, first = null;
        for (var i = 0; i <= state.step; i++) {
          var x = T.X[base + i], y = T.Y[base + i];
          if (isFinite(x) && isFinite(y)) {
            var p = sx(x).toFixed(1) + "," + sy(y).toFixed(1);
            d += (pen ? "L" : "M") + p; pen = true; head = [sx(x), sy(y)]; if (!first) first = head;
          } else pen = false;
        }
        var main = r === 0;
        el("path", {d: d, fill: "none", stroke: c.color, "stroke-width": main ? 1.8 : 1.0, "stroke-opacity": main ? 1 : 0.5,
                    "class": "trajectory", "data-series": n, "data-replicate": r}, g);
        if (first) el("circle", {cx: first[0], cy: first[1], r: 4, fill: "#fff", stroke: c.color, "stroke-width": 1.4}, g);
        if (head) el("circle", {cx: head[0], cy: head[1], r: main ? 4 : 2.5, fill: c.color, stroke: "#000", "stroke-width": 0.5, "class": "head"}, g);
      }
    });
    if (C && C.optimum) star(g, sx(C.optimum[0]), sy(C.optimum[1]));
    el("text", {x: box.l + 8, y: box.t + 16, "class": "step-label halo"}, svg).textContent = D.x.name + " " + fmt(X[state.step]);
    document.getElementById("paths-caption").textContent = (C ? "Loss contours (" + (C.log ? "log-spaced" : "evenly spaced") + " levels" +
      (C.optimum ? ", star: minimum" : "") + "); " : "") + (T.count === 1 ? "one trajectory per setting" : "first " + shown + " of " + T.count + " trajectories per setting") +
      " (open circle: start, dot: the iterate at the chosen " + D.x.name + ").";
  }
  function star(g, cx, cy) {
    var pts = [];
    for (var i = 0; i < 10; i++) { var a = -Math.PI / 2 + i * Math.PI / 5, r = i % 2 ? 3.6 : 9; pts.push((cx + r * Math.cos(a)).toFixed(1) + "," + (cy + r * Math.sin(a)).toFixed(1)); }
    el("polygon", {points: pts.join(" "), fill: "gold", stroke: "#000", "stroke-width": 0.8, "class": "optimum"}, g);
  }

  // -- controls ------------------------------------------------------------------------------------------
  var panel = document.getElementById("controls");
  function ctl(label, id) {
    var div = document.createElement("div"); div.className = "ctl";
    var lab = document.createElement("label"); lab.htmlFor = id; lab.textContent = label;
    var val = document.createElement("span"); val.className = "value"; lab.appendChild(val);
    div.appendChild(lab); panel.appendChild(div);
    return {div: div, value: val};
  }
  function select(id, options, value, onchange, parent) {
    var s = document.createElement("select"); s.id = id;
    options.forEach(function (o) { var op = document.createElement("option"); op.value = o[0]; op.textContent = o[1]; s.appendChild(op); });
    s.value = value; s.addEventListener("change", function () { onchange(s.value); }); parent.appendChild(s);
    return s;
  }
  function checkbox(id, text, checked, onchange, parent) {
    var lab = document.createElement("label"), box = document.createElement("input");
    box.type = "checkbox"; box.id = id; box.checked = checked;
    box.addEventListener("change", function () { onchange(box.checked); });
    lab.appendChild(box); lab.appendChild(document.createTextNode(" " + text)); parent.appendChild(lab);
    return box;
  }
  function number(id, lo, hi, value, onchange, parent) {
    var n = document.createElement("input"); n.type = "number"; n.id = id; n.min = lo; n.max = hi; n.step = 1; n.value = value;
    n.addEventListener("input", function () { var v = Math.max(lo, Math.min(hi, parseInt(n.value, 10) || 0)); onchange(v); });
    parent.appendChild(n);
    return n;
  }
  var widgets = {};
  function build() {
    var c = ctl("variable", "ctl-var");
    widgets["var"] = select("ctl-var", D.variables.map(function (v) { return [v.name, v.label]; }), state.var, function (v) {
      state.var = v; state.logy = VARS[v].logDefault; widgets.logy.checked = state.logy; render();
    }, c.div);
    var multi = D.controls.filter(function (k) { return k.labels.length > 1; });
    if (multi.length) {
      c = ctl("overlay", "ctl-compare");
      widgets.compare = select("ctl-compare", [["", "none"]].concat(multi.map(function (k) { return [k.dim, "every " + k.label]; })),
        state.compare || "", function (v) { state.compare = v || null; render(); }, c.div);
    }
    D.controls.forEach(function (k) {
      var id = "ctl-" + k.dim, w = ctl(k.label, id);
      if (k.labels.length < 2) { w.value.textContent = k.labels[0]; return; }
      if (k.kind === "slider") {
        var r = document.createElement("input"); r.type = "range"; r.id = id; r.min = 0; r.max = k.labels.length - 1; r.step = 1; r.value = state.idx[k.dim];
        r.addEventListener("input", function () { state.idx[k.dim] = parseInt(r.value, 10); render(); });
        w.div.appendChild(r); widgets[k.dim] = r;
      } else {
        widgets[k.dim] = select(id, k.labels.map(function (l, i) { return [String(i), l]; }), String(state.idx[k.dim]),
          function (v) { state.idx[k.dim] = parseInt(v, 10); render(); }, w.div);
      }
      widgets[k.dim].valueLabel = w.value;
    });
    panel.appendChild(document.createElement("hr"));
    var row = document.createElement("div"); row.className = "ctl row"; panel.appendChild(row);
    widgets.logx = checkbox("ctl-logx", "log x", state.logx, function (v) { state.logx = v; render(); }, row);
    widgets.logy = checkbox("ctl-logy", "log y", state.logy, function (v) { state.logy = v; render(); }, row);
    var kmax = Math.max.apply(null, D.variables.map(function (v) { return v.replicates; }));
    if (kmax > 0) {
      c = ctl("individual replicates", "ctl-reps");
      widgets.reps = number("ctl-reps", 0, kmax, state.reps, function (v) { state.reps = v; render(); }, c.div);
    }
    if (T) {
      panel.appendChild(document.createElement("hr"));
      if (T.count > 1) {
        c = ctl("trajectories shown", "ctl-paths");
        widgets.paths = number("ctl-paths", 1, T.count, state.paths, function (v) { state.paths = v; render(); }, c.div);
      }
      c = ctl(D.x.name, "ctl-step");
      var st = document.createElement("input"); st.type = "range"; st.id = "ctl-step"; st.min = 0; st.max = S - 1; st.step = 1; st.value = state.step;
      st.addEventListener("input", function () { stop(); state.step = parseInt(st.value, 10); render(); });
      c.div.appendChild(st); widgets.step = st; widgets.step.valueLabel = c.value;
      var b = document.createElement("button"); b.id = "ctl-play"; b.type = "button"; b.textContent = "play";
      b.addEventListener("click", function () { if (state.playing) stop(); else play(); });
      c.div.appendChild(b); widgets.play = b;
    }
  }
  var timer = null;
  function play() {
    if (state.step >= S - 1) state.step = 0;
    state.playing = true; widgets.play.textContent = "pause";
    var every = Math.max(16, Math.min(80, 6000 / S));
    timer = setInterval(function () {
      if (state.step >= S - 1) { stop(); return; }
      state.step += 1; render();
    }, every);
  }
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null; state.playing = false; if (widgets.play) widgets.play.textContent = "play";
  }
  function syncWidgets() {
    D.controls.forEach(function (k) {
      var w = widgets[k.dim];
      if (!w) return;
      var on = state.compare === k.dim && VARS[state.var].dims.indexOf(k.dim) >= 0, used = VARS[state.var].dims.indexOf(k.dim) >= 0 || (T && T.dims.indexOf(k.dim) >= 0);
      w.disabled = on || !used;
      w.valueLabel.textContent = on ? "every value overlaid" : (used ? k.labels[state.idx[k.dim]] : "(not a dimension of this variable)");
      if (String(w.value) !== String(state.idx[k.dim])) w.value = state.idx[k.dim];
    });
    widgets.logy.disabled = !VARS[state.var].positive && !state.logy;
    widgets.logx.checked = state.logx; widgets.logy.checked = state.logy; widgets["var"].value = state.var;
    if (widgets.compare) widgets.compare.value = state.compare || "";
    if (widgets.reps && String(widgets.reps.value) !== String(state.reps)) widgets.reps.value = state.reps;
    if (widgets.paths && String(widgets.paths.value) !== String(state.paths)) widgets.paths.value = state.paths;
    if (widgets.step) { widgets.step.value = state.step; widgets.step.valueLabel.textContent = fmt(X[state.step]); }
  }

  function render() {
    var list = series();
    syncWidgets();
    drawCurves(list);
    if (T) drawPaths();
    api.current = {var: state.var, compare: state.compare, idx: Object.assign({}, state.idx), step: state.step,
                   series: list.map(function (s) { return {label: s.label, color: s.color, mid: Array.from(s.mid),
                     lo: Array.from(s.lo), hi: Array.from(s.hi), reps: s.reps.map(function (r) { return Array.from(r); })}; })};
    api.renders += 1;
  }
  function subtitle() {
    var fixed = D.controls.filter(function (k) { return k.labels.length === 1; }).map(function (k) { return k.label + " = " + k.labels[0]; });
    var parts = [];
    if (fixed.length) parts.push(fixed.join(", "));
    if (D.meta.spec_hash) parts.push("spec hash " + D.meta.spec_hash);
    document.getElementById("subtitle").textContent = parts.join(" \u00b7 ");
    document.getElementById("footer").textContent = "Written by optsim " + D.version + (D.meta.git_revision ? " (result from revision " + D.meta.git_revision.slice(0, 10) + ")" : "") +
      ". Self-contained: the data and the code are in this file; nothing is fetched.";
  }

  var api = {data: D, state: state, decode: decode, render: render, series: series, renders: 0, current: null,
             set: function (name, value) {
               if (name in state.idx) state.idx[name] = value; else state[name] = value;
               render();
             }, play: play, stop: stop};
  window.optsimExplorer = api;
  build();
  subtitle();
  render();
})();
