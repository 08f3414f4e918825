/* tinygrad_rnn inspector, backward step by step: the frames of viz.replay_frames in the tape's
 * own order (reverse creation order), stepped with the arrow keys or the ◀ ▶ buttons.
 *
 * Frame k is the k-th op backward visits: it receives its upstream gradient and adds (+=) a
 * contribution into each input's gradient. The page colours the nodes of whatever view is
 * shown: the current op orange, ops already processed and inputs whose gradient is complete
 * green, inputs still collecting contributions (a shared weight after some of its uses W⁽ᵗ⁾)
 * yellow, the rest faded; the edges carrying this step's contributions are drawn thick.
 * The statuses are recomputed from the frames (a few hundred at most), so any step can be
 * jumped to.
 */
(function (TI) {
  "use strict";

  TI.replay = function (ins) {
    var R = ins.data.replay, frames = R ? R.frames : [], k = -1, st = {}, edges = [];
    var bar = ins.root.querySelector(".tri-replay");
    var pos = bar.querySelector(".tri-rpos"), cap = bar.querySelector(".tri-rcap");

    function idle() {
      pos.textContent = frames.length
        ? "Backward, step by step: " + R.total + " steps in the tape's order. Press → (or ▶) to start."
        : "No backward replay for this graph (see the notes below).";
      cap.textContent = "";
      cap.hidden = true;
    }

    function statuses() {  // node id -> "current" | "done" | "partial", after frame k's += ...
      var out = {}, seen = {};
      for (var j = 0; j <= k; j++) {
        var f = frames[j];
        out[f.node] = "done";
        f.c.forEach(function (c) {  // [src, edge index, uses done, uses in all, copy name]
          seen[c[0]] = c[2];
          var leaf = ins.data.info[c[0]].kind !== "op";
          if (out[c[0]] !== "done" || leaf) out[c[0]] = leaf && c[2] === c[3] ? "done" : "partial";
        });
      }
      out[frames[k].node] = "current";
      return out;
    }

    function go(n) {
      k = Math.max(-1, Math.min(frames.length - 1, n));
      ins.root.classList.toggle("tri-replaying", k >= 0);
      if (k < 0) {
        st = {};
        edges = [];
        idle();
        ins.refresh();
        return;
      }
      var f = frames[k];
      st = statuses();
      edges = f.c.map(function (c) { return c[1]; });
      pos.textContent = "Backward step " + (k + 1) + " / " + frames.length +
        (R.total > frames.length ? " (of " + R.total + ")" : "");
      cap.textContent = f.caption;
      cap.hidden = false;
      ins.select(f.node, {reveal: true});
    }

    function paint(pic) {
      ["rp-current", "rp-done", "rp-partial", "rp-edge"].forEach(function (cls) {
        Array.prototype.forEach.call(pic.svg.querySelectorAll("." + cls), function (el) {
          el.classList.remove(cls);
        });
      });
      if (k < 0) return;
      Object.keys(st).forEach(function (id) {
        ins.elementsFor(pic, id).forEach(function (el) { el.classList.add("rp-" + st[id]); });
      });
      edges.forEach(function (e) {
        (pic.index.byEdge[e] || []).forEach(function (el) { el.classList.add("rp-edge"); });
      });
    }

    idle();
    return {
      step: function (dk) { if (frames.length) go(k + dk); },
      go: function (n) { if (frames.length) go(n); },
      paint: paint,
      position: function () { return k; },
    };
  };
})(window.TinygradInspector = window.TinygradInspector || {});
