// Flame graph of inclusive instruction counts per call stack (d3-flame-graph).
(function () {
  var data = window.FASMCOV_FLAME;
  var el = document.getElementById('flamegraph');
  if (!data || !el || !window.flamegraph) return;
  var make = typeof window.flamegraph === 'function' ? window.flamegraph : window.flamegraph.default;
  var chart = make()
    .width(Math.max(600, el.clientWidth || 1000))
    .cellHeight(18)
    .minFrameSize(1);
  d3.select(el).datum(data).call(chart);
})();
