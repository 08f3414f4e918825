/* tinygrad_rnn inspector, the side panel: what one node (or one edge) holds.
 *
 * For a node: its name and place (scope, layer, direction, step or tree node, role), the op
 * with its forward equation and the rule that sends the gradient to each input (in the seeds'
 * notation), shape and dtype, value and gradient (summaries, and the values when the trace
 * kept them), the gradient each input received from it and each use sent back to it; for a
 * weight, the per-use gradients ∇_{W⁽ᵗ⁾} L as a bar chart over t and the check that they add
 * up to W.grad. For a box, its members. For an edge, the gradient that use sent back.
 * Numbers show 4 significant digits; the full value is in the element's title.
 */
(function (TI) {
  "use strict";

  var MAX_VALUES = 64, MAX_LIST = 200;
  var SUP = {"0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷",
    "8": "⁸", "9": "⁹", "-": "⁻", "t": "ᵗ", "(": "⁽", ")": "⁾"};

  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;"}[c];
    });
  }

  function fmt(x) {  // 4 significant digits; "nan"/"inf" arrive as strings (JSON has no NaN)
    if (x === null || x === undefined) return "–";
    if (typeof x === "string") return x;
    if (x === 0) return "0";
    return String(parseFloat(x.toPrecision(4)));
  }
  TI.fmt = fmt;

  function num(x, attr) {
    return '<span class="tri-num"' + (attr ? " " + attr + '="' + esc(x) + '"' : "") +
      ' title="' + esc(x) + '">' + esc(fmt(x)) + "</span>";
  }

  function math(s) {  // rule text: W_ih, ∇_{W⁽ᵗ⁾} and Σ_t written with subscripts
    return esc(s).replace(/_\{([^}]*)\}|_([A-Za-z0-9]+)/g, function (_, a, b) {
      return "<sub>" + (a ? a.replace(/_([A-Za-z0-9]+)/g, "<sub>$1</sub>") : b) + "</sub>";
    });
  }

  function sup(s) {  // "3" -> "³": the seeds write W⁽³⁾
    return String(s).split("").map(function (c) { return SUP[c] || c; }).join("");
  }

  function shapeText(shape) {
    return "(" + shape.join(", ") + (shape.length === 1 ? ",)" : ")");
  }

  TI.panel = function (ins) {
    var el = ins.root.querySelector(".tri-panel"), d = ins.data, g = d.graph;
    var ins_ = {}, outs = {};  // per node: its incoming and outgoing edge indices
    g.edges.forEach(function (e, k) {
      (ins_[e.dst] = ins_[e.dst] || []).push(k);
      (outs[e.src] = outs[e.src] || []).push(k);
    });

    el.addEventListener("click", function (e) {
      var a = e.target.closest("[data-goto]"), o = e.target.closest("[data-open]");
      var u = e.target.closest("[data-use]");
      if (a) { e.preventDefault(); ins.select(+a.getAttribute("data-goto"), {reveal: true}); }
      else if (o) ins.openCell(o.getAttribute("data-open"));
      else if (u) ins.selectEdges([+u.getAttribute("data-use")]);
    });

    function link(id) {
      return '<a href="#" data-goto="' + id + '">' + esc(d.info[id].label) + "</a>";
    }

    function summary(title, s, attr) {
      if (!s) return "<h3>" + title + '</h3><p class="tri-muted">not kept (run ' +
        "loss.backward(retain_grads=True) before tracing)</p>";
      var out = "<h3>" + title + '</h3><p class="tri-stats">‖·‖ = ' + num(s.norm, attr);
      ["min", "max", "mean"].forEach(function (k) {
        if (k in s) out += " &nbsp;" + k + " " + num(s[k]);
      });
      out += "</p>";
      if (s.values) out += values(s.values, s.shape || []);
      return out;
    }

    function values(vals, shape) {  // rows of the last axis when narrow, else rows of 4
      var last = shape.length > 1 ? shape[shape.length - 1] : 0;
      var cols = last && last <= 4 ? last : 4, shown = vals.slice(0, MAX_VALUES), rows = [];
      for (var r = 0; r * cols < shown.length; r++) {
        rows.push('<tr><th>' + r * cols + "</th>" + shown.slice(r * cols, (r + 1) * cols)
          .map(function (v) { return "<td>" + num(v) + "</td>"; }).join("") + "</tr>");
      }
      var more = vals.length > MAX_VALUES ? '<p class="tri-muted">first ' + MAX_VALUES +
        " of " + vals.length + " values</p>" : "";
      return "<details" + (vals.length <= 16 ? " open" : "") + "><summary>" + vals.length +
        ' values</summary><div class="tri-values"><table>' + rows.join("") +
        "</table></div>" + more + "</details>";
    }

    function ruleFor(r, arg) {  // a variadic op's template is written out for input k
      if (!r) return "";
      return r.inputs[arg] ||
        (r.each ? r.each.replace(/_k\b/g, "_" + arg).replace(/\[k\]/g, "[" + arg + "]") : "");
    }

    function rule(id, nd) {
      var inf = d.info[id];
      if (inf.rule === undefined) return "";
      var r = d.rules[inf.rule], out = '<h3>Op and local rule</h3><p class="tri-rule">' +
        "<b>" + esc(nd.op) + "</b>: " + math(r.forward) + '</p><ul class="tri-rules">';
      (ins_[id] || []).forEach(function (k) {
        var e = g.edges[k];
        if ((e.kind || "data") !== "data") return;
        out += "<li>" + math(ruleFor(r, e.arg)) + '<br><span class="tri-muted">input ' +
          e.arg + ": " + link(e.src) + "; sent back ‖·‖ = " + num((e.grad || {}).norm) +
          "</span></li>";
      });
      return out + "</ul>";
    }

    function place(id, nd) {
      var inf = d.info[id], m = nd.meta || {};
      var rows = [["op", nd.op], ["scope", m.scope], ["layer", m.layer],
        ["direction", m.direction], ["step", inf.step], ["tree node", m.tree_node],
        ["depth", m.depth], ["word", m.word], ["role", m.role], ["site", m.site]];
      return "<dl>" + rows.filter(function (r) { return r[1] !== undefined && r[1] !== null && r[1] !== ""; })
        .map(function (r) { return "<dt>" + r[0] + "</dt><dd>" + esc(r[1]) + "</dd>"; })
        .join("") + "</dl>";
    }

    function usesOf(id, nd) {  // a value used several times: each use's share of its gradient
      var list = (outs[id] || []).filter(function (k) { return (g.edges[k].kind || "data") === "data"; });
      if (!list.length || d.uses[id]) return "";
      return "<h3>Uses (" + list.length + ")</h3><ul class=\"tri-uses\">" + list.slice(0, MAX_LIST)
        .map(function (k) {
          var e = g.edges[k];
          return "<li>" + link(e.dst) + ' <a href="#" data-use="' + k + '">sent back ‖·‖ = ' +
            fmt((e.grad || {}).norm) + "</a></li>";
        }).join("") + "</ul>";
    }

    function chart(id, use) {
      var u = d.uses[id];
      if (!u) return "";
      var nm = d.info[id].label, W = 300, H = 110, n = u.uses.length;
      var top = Math.max.apply(null, u.uses.map(function (x) { return x[2] || 0; })) || 1;
      var bw = (W - 30) / n, bars = "", labels = "", every = Math.ceil(n / 12);
      u.uses.forEach(function (x, k) {
        var h = (x[2] || 0) / top * (H - 30), cls = x[0] === use ? "tri-bar on" : "tri-bar";
        bars += '<rect class="' + cls + '" data-use="' + x[0] + '" x="' + (28 + k * bw + 1) +
          '" y="' + (H - 18 - h) + '" width="' + Math.max(bw - 2, 1) + '" height="' + h +
          '"><title>' + esc((x[1] || "use " + k) + ": ‖∇‖ = " + fmt(x[2])) + "</title></rect>";
        if (k % every === 0) {
          labels += '<text x="' + (28 + (k + 0.5) * bw) + '" y="' + (H - 5) +
            '" text-anchor="middle">' + esc((x[1] || String(k)).replace(/^t=/, "")) + "</text>";
        }
      });
      var svg = '<svg class="tri-chart" viewBox="0 0 ' + W + " " + H + '" width="' + W +
        '" height="' + H + '"><text x="2" y="10">' + fmt(top) + "</text>" +
        '<line x1="27" y1="' + (H - 18) + '" x2="' + W + '" y2="' + (H - 18) + '"/>' + bars +
        labels + "</svg>";
      return "<h3>Per-use gradients ∇<sub>" + esc(nm) + sup("(t)") + "</sub> L (" + n +
        " uses)</h3>" + svg + check(u, nm, g.nodes[id].grad);
    }

    function check(u, nm, grad) {
      var out = '<p class="tri-check">Σ<sub>t</sub> ∇<sub>' + esc(nm) + sup("(t)") +
        "</sub> L = " + esc(nm) + ".grad";
      if ("sum_mean" in u) {
        var ok = Math.abs(u.sum_mean - u.grad_mean) <= 1e-9 + 1e-6 * Math.abs(u.grad_mean);
        out += "<br>mean: Σ of the uses' means = " + num(u.sum_mean) + ", mean of .grad = " +
          num(u.grad_mean) + (ok ? " ✓" : " ✗");
      }
      if ("sum_norm" in u) {
        out += "<br>‖Σ<sub>t</sub>‖ = " + num(u.sum_norm) + ", ‖.grad‖ = " + num((grad || {}).norm) +
          ", largest difference " + num(u.max_diff);
      }
      return out + "</p>";
    }

    function boxPart(key) {
      var b = d.boxes[key];
      if (!b) return "";
      var open = b.svg ? '<button type="button" data-open="' + esc(key) + '">open the box</button>'
        : b.note ? '<p class="tri-muted">' + esc(b.note) + "</p>" : "";
      return '<div class="tri-box"><h3>Box: ' + esc(b.title) + "</h3><p>stands for " +
        b.members.length + " nodes; shown: " + link(b.rep) + "</p>" + open +
        '<details><summary>members</summary><ul class="tri-members">' +
        b.members.slice(0, MAX_LIST).map(function (m) { return "<li>" + link(m) + "</li>"; }).join("") +
        (b.members.length > MAX_LIST ? "<li>…</li>" : "") + "</ul></details></div>";
    }

    function showNode(id, opts) {
      var nd = g.nodes[id], inf = d.info[id];
      var head = '<h2 class="tri-name">' + esc(inf.label) + '</h2><p class="tri-muted">' +
        esc(inf.kind) + " · node #" + id + (nd.name && nd.name !== inf.label ? " · name " +
        esc(nd.name) : "") + "</p>";
      el.innerHTML = head + (opts.box ? boxPart(opts.box) : "") + place(id, nd) +
        '<p><b>shape</b> ' + shapeText(nd.shape || []) + " · " + esc(nd.dtype || "") + "</p>" +
        rule(id, nd) + summary("Gradient ∂L/∂" + esc(inf.label), nd.grad, "data-grad-norm") +
        chart(id, opts.use) + summary("Value", nd.value) + usesOf(id, nd);
      el.scrollTop = 0;
    }

    function showEdges(list) {
      var out = "<h2>" + (list.length === 1 ? "One use" : list.length + " uses") + "</h2>";
      list.slice(0, 20).forEach(function (k) {
        var e = g.edges[k], inf = d.info[e.dst], r = inf.rule !== undefined ? d.rules[inf.rule] : null;
        out += '<div class="tri-edge"><p>' + link(e.src) + " → " + link(e.dst) + " (input " +
          e.arg + (e.kind === "cut" ? ", a truncated-BPTT cut" : "") + ")</p>" +
          (r ? '<p class="tri-rule">' + math(ruleFor(r, e.arg)) + "</p>" : "") +
          summary("Gradient this use sent back", e.grad, list.length === 1 ? "data-grad-norm" : null) +
          "</div>";
      });
      if (list.length > 20) out += '<p class="tri-muted">first 20 of ' + list.length + "</p>";
      el.innerHTML = out;
      el.scrollTop = 0;
    }

    return {showNode: showNode, showEdges: showEdges};
  };
})(window.TinygradInspector = window.TinygradInspector || {});
