/* tinygrad_rnn inspector, the core: views as tabs, pan and zoom, selection, search, steps,
 * boxes that open, export.
 *
 * One inspector is one root element <div class="tri-root"> holding its markup and its data (a
 * JSON <script class="tri-data">, written by viz/inspector.py; see viz/inspector_data.py for
 * its fields). Nothing is looked up outside the root, so several inspectors can share a
 * notebook page. The side panel (inspector_panel.js) and the backward replay
 * (inspector_replay.js) are inlined after this file; mount() runs once all three are loaded.
 * Drawn SVG elements carry data-node-id / data-box / data-edge / data-step (viz/inspector_svg.py).
 */
(function (TI) {
  "use strict";

  var CLICK_SLOP = 4;  // pixels a press may move and still be a click, not a drag

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function push(map, key, value) { (map[key] = map[key] || []).push(value); }

  // ---- pan and zoom of one <svg>, through its viewBox -------------------------------------
  // The viewBox always has the aspect ratio of its box, so a screen pixel is 1/s user units
  // both ways and pointer positions convert without asking the browser.
  function Zoom(svg, box) {
    var vb = svg.viewBox.baseVal;
    var full = {x: vb.x, y: vb.y, w: vb.width || 100, h: vb.height || 100};
    var z = {s: 1, x: full.x, y: full.y, full: full, fitted: false, touched: false, min: 0.02};
    function size() { return {w: box.clientWidth || 800, h: box.clientHeight || 500}; }
    z.apply = function () {
      var c = size();
      svg.setAttribute("viewBox", [z.x, z.y, c.w / z.s, c.h / z.s].join(" "));
    };
    z.fit = function () {
      var c = size();
      z.s = Math.min(c.w / full.w, c.h / full.h) * 0.97;
      z.min = Math.min(z.s / 2, 0.05);
      z.x = full.x - (c.w / z.s - full.w) / 2;
      z.y = full.y - (c.h / z.s - full.h) / 2;
      z.fitted = box.clientWidth > 0;
      z.apply();
    };
    z.zoomAt = function (f, px, py) {  // f > 1 zooms in, around the pixel (px, py) of the box
      z.apply();  // the box may have changed size since: pixels convert at the current size
      var ux = z.x + px / z.s, uy = z.y + py / z.s;
      z.s = Math.max(z.min, Math.min(8, z.s * f));
      z.x = ux - px / z.s;
      z.y = uy - py / z.s;
      z.touched = true;
      z.apply();
    };
    z.zoomCenter = function (f) { var c = size(); z.zoomAt(f, c.w / 2, c.h / 2); };
    z.panBy = function (dx, dy) { z.x -= dx / z.s; z.y -= dy / z.s; z.touched = true; z.apply(); };
    z.reveal = function (el) {  // centre el, zoomed in far enough to read it
      z.apply();
      var r = el.getBoundingClientRect(), b = box.getBoundingClientRect(), c = size();
      var cx = z.x + (r.left + r.width / 2 - b.left) / z.s;
      var cy = z.y + (r.top + r.height / 2 - b.top) / z.s;
      z.s = Math.max(z.s, Math.min(1, 0.4 * c.w / Math.max(r.width / z.s, 1)));
      z.x = cx - c.w / 2 / z.s;
      z.y = cy - c.h / 2 / z.s;
      z.touched = true;
      z.apply();
    };
    return z;
  }

  // ---- a picture: one view, or the inside of an open box -----------------------------------
  function attach(ins, box, svg) {
    var pic = {box: box, svg: svg, zoom: Zoom(svg, box), index: indexSvg(ins, svg)};
    box.triPic = pic;
    if (!box.triWired) { wirePointer(ins, box); box.triWired = true; }
    pic.zoom.fit();
    return pic;
  }

  function indexSvg(ins, svg) {
    var byNode = {}, inBox = {}, byEdge = {};
    each(svg.querySelectorAll("[data-node-id]"), function (el) {
      // a grid row's header stands for its weights, but each weight has cells of its own:
      // those are what marks and the replay colour, not the whole header
      if (!el.querySelector("[data-node-id]")) push(byNode, el.getAttribute("data-node-id"), el);
    });
    each(svg.querySelectorAll("[data-box]"), function (el) {
      var b = ins.data.boxes[el.getAttribute("data-box")];
      (b ? b.members : []).forEach(function (m) { if (!byNode[m]) push(inBox, m, el); });
    });
    each(svg.querySelectorAll("[data-edge]"), function (el) {
      el.getAttribute("data-edge").split(" ").forEach(function (k) { push(byEdge, k, el); });
    });
    return {byNode: byNode, inBox: inBox, byEdge: byEdge};
  }

  function elementsFor(pic, id) {
    return pic.index.byNode[id] || pic.index.inBox[id] || [];
  }

  function wirePointer(ins, box) {
    var drag = null;
    box.addEventListener("wheel", function (e) {
      e.preventDefault();
      var r = box.getBoundingClientRect();
      var dy = e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1);
      box.triPic.zoom.zoomAt(Math.exp(-dy * 0.002), e.clientX - r.left, e.clientY - r.top);
    }, {passive: false});
    box.addEventListener("pointerdown", function (e) {
      if (e.button === 0) drag = {x: e.clientX, y: e.clientY, id: e.pointerId, moved: false};
    });
    box.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < CLICK_SLOP) return;
      if (!drag.moved) {  // capture only now: a captured press would steal the node's click
        drag.moved = true;
        box.setPointerCapture(drag.id);
        box.classList.add("tri-dragging");
      }
      box.triPic.zoom.panBy(dx, dy);
      drag.x = e.clientX;
      drag.y = e.clientY;
    });
    function end() {
      if (drag && drag.moved) {
        box.triDragged = true;  // the click that ends a drag is not a click on a node
        setTimeout(function () { box.triDragged = false; }, 0);
      }
      drag = null;
      box.classList.remove("tri-dragging");
    }
    box.addEventListener("pointerup", end);
    box.addEventListener("pointercancel", end);
    box.addEventListener("click", function (e) {
      if (!box.triDragged) onClick(ins, box.triPic, e.target);
    });
  }

  function edgeList(el) {
    var s = el.getAttribute("data-edge");
    return s ? s.split(" ").map(Number) : [];
  }

  function onClick(ins, pic, target) {
    var node = target.closest("[data-node-id]");
    var edge = target.closest("g.edge[data-edge]");
    if (node && pic.svg.contains(node)) {
      var id = +node.getAttribute("data-node-id"), key = node.getAttribute("data-box");
      var b = key && ins.data.boxes[key];
      if (b && b.fold && ins.step !== null) {  // a folded node at the chosen step: that copy
        // (the last member of that step: for a folded row, that step's h)
        id = b.members.filter(function (m) { return String(ins.data.info[m].step) === String(ins.step); }).pop();
        if (id === undefined) id = b.rep;
      }
      ins.select(id, {box: key, use: node.hasAttribute("data-copy") ? edgeList(node)[0] : null});
      if (key) ins.openCell(key);
    } else if (edge && pic.svg.contains(edge)) {
      ins.selectEdges(edgeList(edge));
    }
  }

  // ---- marks: selection, search hits, the step slider, replay --------------------------------
  function pics(ins) {
    var out = [view(ins, ins.current)];
    if (ins.cellPic) out.push(ins.cellPic);
    return out;
  }

  function mark(pic, cls, els) {
    each(pic.svg.querySelectorAll("." + cls), function (el) { el.classList.remove(cls); });
    els.forEach(function (el) { el.classList.add(cls); });
  }

  function stepOf(ins, id) { return String(ins.data.info[id].step); }

  function stepEls(ins, pic) {
    if (ins.step === null) return [];
    var t = String(ins.step), out = [], edges = ins.data.graph.edges;
    Object.keys(pic.index.byNode).forEach(function (id) {
      pic.index.byNode[id].forEach(function (el) {
        var key = el.getAttribute("data-box"), b = key && ins.data.boxes[key];
        var hit = b ? !b.fold && b.members.some(function (m) { return stepOf(ins, m) === t; })
          : el.hasAttribute("data-copy")  // a copy W⁽ᵗ⁾ (or its strip cell): its use's step
            ? edgeList(el).some(function (k) { return stepOf(ins, edges[k].dst) === t; })
            : stepOf(ins, id) === t;
        if (hit) out.push(el);
      });
    });
    each(pic.svg.querySelectorAll('g.cluster[data-step="' + t + '"]'), function (el) { out.push(el); });
    return out;
  }

  function refresh(ins) {
    pics(ins).forEach(function (pic) {
      var sel = [], s = ins.selected;
      if (s && s.edges) s.edges.forEach(function (k) { sel = sel.concat(pic.index.byEdge[k] || []); });
      else if (s) sel = elementsFor(pic, s.node);
      var hits = [];
      ins.hits.slice(0, 2000).forEach(function (id) { hits = hits.concat(elementsFor(pic, id)); });
      mark(pic, "tri-sel", sel);
      mark(pic, "tri-use", s && !s.edges && s.use !== null ? (pic.index.byEdge[s.use] || [])
        .filter(function (el) { return el.hasAttribute("data-copy"); }) : []);  // that W⁽ᵗ⁾
      mark(pic, "tri-hit", hits);
      mark(pic, "tri-step", stepEls(ins, pic));
      ins.replay.paint(pic);
    });
  }

  // ---- views and the open box -----------------------------------------------------------------
  function view(ins, name) {
    if (ins.views[name]) return ins.views[name];
    var el = ins.root.querySelector('.tri-view[data-view="' + name + '"]');
    if (!el.querySelector("svg")) {  // only the first view is inline: the others on first use
      var spec = ins.data.views.filter(function (v) { return v.name === name; })[0];
      el.innerHTML = spec.svg;
    }
    ins.views[name] = attach(ins, el, el.querySelector("svg"));
    return ins.views[name];
  }

  function show(ins, name) {
    ins.current = name;
    each(ins.root.querySelectorAll(".tri-view"), function (el) {
      el.hidden = el.getAttribute("data-view") !== name;
    });
    each(ins.root.querySelectorAll(".tri-tab"), function (b) {
      b.classList.toggle("on", b.getAttribute("data-view") === name);
    });
    var pic = view(ins, name);
    if (!pic.zoom.fitted) pic.zoom.fit();
    refresh(ins);
  }

  function showCell(ins) {
    var wrap = ins.root.querySelector(".tri-cell"), body = ins.root.querySelector(".tri-cellview");
    var key = ins.cells[ins.cells.length - 1];
    ins.cellPic = null;
    wrap.hidden = !key;
    body.innerHTML = key ? ins.data.boxes[key].svg : "";
    if (key) {
      ins.root.querySelector(".tri-celltitle").textContent = ins.data.boxes[key].title;
      ins.root.querySelector('[data-act="cell-back"]').hidden = ins.cells.length < 2;
      ins.cellPic = attach(ins, body, body.querySelector("svg"));
    }
    refresh(ins);
  }

  // ---- export ---------------------------------------------------------------------------------
  function exportSvg(ins) {
    var pic = ins.cellPic || view(ins, ins.current), f = pic.zoom.full;
    var clone = pic.svg.cloneNode(true);
    clone.setAttribute("viewBox", [f.x, f.y, f.w, f.h].join(" "));
    clone.setAttribute("width", f.w + "pt");
    clone.setAttribute("height", f.h + "pt");
    each(clone.querySelectorAll("[class]"), function (el) {  // drop the page's own marks
      el.getAttribute("class").split(" ").forEach(function (c) {
        if (/^(tri|rp)-/.test(c)) el.classList.remove(c);
      });
    });
    return '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' +
      new XMLSerializer().serializeToString(clone);
  }

  function download(ins, text, name, type) {
    var url = URL.createObjectURL(new Blob([text], {type: type}));
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.hidden = true;
    ins.root.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 1000);
  }

  // ---- search ---------------------------------------------------------------------------------
  function search(ins, q) {
    var d = ins.data;
    q = q.trim().toLowerCase();
    ins.hits = [];
    ins.hitAt = -1;
    if (q) {
      d.info.forEach(function (inf, i) {
        var nd = d.graph.nodes[i], meta = nd.meta || {};
        var text = [inf.label, nd.name, meta.scope, nd.op, inf.kind].join(" ").toLowerCase();
        if (text.indexOf(q) >= 0) ins.hits.push(i);
      });
    }
    ins.root.querySelector(".tri-hits").textContent = q ? ins.hits.length + " found" : "";
    refresh(ins);
  }

  function nextHit(ins) {
    if (!ins.hits.length) return;
    ins.hitAt = (ins.hitAt + 1) % ins.hits.length;
    ins.select(ins.hits[ins.hitAt], {reveal: true});
  }

  // ---- wiring ---------------------------------------------------------------------------------
  function wireBar(ins) {
    var root = ins.root, d = ins.data;
    root.addEventListener("click", function (e) {
      var b = e.target.closest("button");
      if (!b || !root.contains(b)) return;
      var act = b.getAttribute("data-act"), pic = ins.cellPic || view(ins, ins.current);
      if (b.classList.contains("tri-tab")) show(ins, b.getAttribute("data-view"));
      else if (act === "zoom-in") pic.zoom.zoomCenter(1.5);
      else if (act === "zoom-out") pic.zoom.zoomCenter(1 / 1.5);
      else if (act === "fit") pic.zoom.fit();
      else if (act === "cell-back") { ins.cells.pop(); showCell(ins); }
      else if (act === "cell-close") { ins.cells = []; showCell(ins); }
      else if (act === "export-svg") download(ins, exportSvg(ins), ins.current + ".svg", "image/svg+xml");
      else if (act === "export-json") download(ins, ins.exportJson(), "graph.json", "application/json");
      else if (act === "replay-next") ins.replay.step(1);
      else if (act === "replay-prev") ins.replay.step(-1);
    });
    var slider = root.querySelector(".tri-step");
    if (slider) {
      slider.addEventListener("input", function () {
        var k = +slider.value;
        ins.step = k < 0 ? null : d.steps[k];
        root.querySelector(".tri-stepval").textContent = k < 0 ? "all" : "t = " + ins.step;
        refresh(ins);
      });
    }
    var box = root.querySelector(".tri-search");
    box.addEventListener("input", function () { search(ins, box.value); });
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { nextHit(ins); e.preventDefault(); }
    });
    if (window.ResizeObserver) {  // keep the scale when the window or the notebook changes size
      new ResizeObserver(function () {
        pics(ins).forEach(function (p) { if (p.zoom.touched) p.zoom.apply(); else p.zoom.fit(); });
      }).observe(root.querySelector(".tri-stage"));
    }
  }

  TI.onKey = function (ins, e) {  // true when the key was the inspector's
    var tag = (e.target && e.target.tagName) || "";
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) || e.ctrlKey || e.metaKey || e.altKey) return false;
    var pic = ins.cellPic || view(ins, ins.current), k = e.key;
    if (k === "ArrowRight") ins.replay.step(1);
    else if (k === "ArrowLeft") ins.replay.step(-1);
    else if (k === "Home") ins.replay.go(0);
    else if (k === "End") ins.replay.go(Infinity);
    else if (k === "Escape") { if (ins.cells.length) { ins.cells = []; showCell(ins); } else ins.replay.go(-1); }
    else if (k === "+" || k === "=") pic.zoom.zoomCenter(1.5);
    else if (k === "-") pic.zoom.zoomCenter(1 / 1.5);
    else if (k === "0") pic.zoom.fit();
    else return false;
    e.preventDefault();
    return true;
  };

  // Keys reach an inspector two ways: pressed while focus is inside it (the root takes focus
  // on a click), where they stop there, so a notebook does not also move between its cells;
  // or pressed with focus on the page itself, where they go to the inspector used last (on a
  // saved page: the only one).
  function wireKeys(ins) {
    ins.root.addEventListener("keydown", function (e) {
      if (TI.onKey(ins, e)) e.stopPropagation();
    });
    if (TI.keysWired) return;
    TI.keysWired = true;
    document.addEventListener("keydown", function (e) {
      var ins = TI.active, free = e.target === document.body || e.target === document.documentElement;
      if (free && ins && document.documentElement.contains(ins.root)) TI.onKey(ins, e);
    });
    document.addEventListener("pointerdown", function (e) {
      var root = e.target.closest && e.target.closest(".tri-root");
      TI.active = root && root.triInspector ? root.triInspector : null;
    }, true);
  }

  TI.mount = function (root) {
    if (!root || root.triInspector) return;
    var ins = {root: root, views: {}, current: null, selected: null, step: null, hits: [],
      hitAt: -1, cells: [], cellPic: null};
    ins.data = JSON.parse(root.querySelector("script.tri-data").textContent);
    root.triInspector = ins;  // the page's API, for tests and the browser console
    ins.select = function (id, opts) {
      opts = opts || {};
      ins.selected = {node: id, use: opts.use === undefined ? null : opts.use};
      ins.panel.showNode(id, opts);
      refresh(ins);
      if (opts.reveal) {  // a weight's shared node rather than one of its copies W⁽ᵗ⁾
        var pic = ins.cellPic || view(ins, ins.current), els = elementsFor(pic, id);
        var el = els.filter(function (e) { return !e.hasAttribute("data-copy"); })[0] || els[0];
        if (el) pic.zoom.reveal(el);
      }
    };
    ins.selectEdges = function (list) {
      ins.selected = {edges: list};
      ins.panel.showEdges(list);
      refresh(ins);
    };
    ins.openCell = function (key) {
      if (!ins.data.boxes[key] || !ins.data.boxes[key].svg) return;
      if (ins.cells[ins.cells.length - 1] !== key) ins.cells.push(key);
      showCell(ins);
    };
    ins.show = function (name) { show(ins, name); };
    ins.refresh = function () { refresh(ins); };
    ins.elementsFor = elementsFor;
    ins.pics = function () { return pics(ins); };
    ins.exportSvg = function () { return exportSvg(ins); };
    ins.exportJson = function () { return JSON.stringify(ins.data.graph); };
    ins.panel = TI.panel(ins);
    ins.replay = TI.replay(ins);
    wireBar(ins);
    wireKeys(ins);
    show(ins, ins.data.views[0].name);
    if (document.body.classList.contains("tri-page")) {  // a page of its own: keys are its
      TI.active = ins;
      root.focus({preventScroll: true});
    }
    if (window.performance && performance.mark) performance.mark("tri-ready");
  };
})(window.TinygradInspector = window.TinygradInspector || {});
