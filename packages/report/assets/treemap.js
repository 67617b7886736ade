// Treemap of line coverage: rectangles sized by code lines, coloured by the share covered.
(function () {
  var data = window.FASMCOV_TREEMAP;
  var el = document.getElementById('treemap');
  if (!data || !el || !window.d3) return;
  var width = el.clientWidth || 1000;
  var height = el.clientHeight || 260;
  var root = d3
    .hierarchy(data)
    .sum(function (d) {
      return d.lines || 0;
    })
    .sort(function (a, b) {
      return b.value - a.value;
    });
  d3.treemap().size([width, height]).paddingInner(1).paddingTop(14)(root);
  var color = d3.scaleLinear().domain([0, 0.5, 1]).range(['#e8776f', '#f2d96b', '#7cc776']);
  var svg = d3.select(el).append('svg').attr('width', width).attr('height', height);
  var leaf = svg
    .selectAll('g.leaf')
    .data(root.leaves())
    .join('g')
    .attr('class', 'leaf')
    .attr('transform', function (d) {
      return 'translate(' + d.x0 + ',' + d.y0 + ')';
    });
  leaf
    .append('a')
    .attr('href', function (d) {
      return d.data.href;
    })
    .append('rect')
    .attr('width', function (d) {
      return Math.max(0, d.x1 - d.x0);
    })
    .attr('height', function (d) {
      return Math.max(0, d.y1 - d.y0);
    })
    .attr('fill', function (d) {
      return d.data.lines ? color(d.data.covered / d.data.lines) : '#ddd';
    })
    .append('title')
    .text(function (d) {
      return d.data.name + ': ' + d.data.covered + '/' + d.data.lines + ' lines';
    });
  leaf
    .append('text')
    .attr('x', 3)
    .attr('y', 12)
    .text(function (d) {
      return d.x1 - d.x0 > 60 ? d.data.name.split('/').pop() : '';
    });
  svg
    .selectAll('text.folder')
    .data(root.children || [])
    .join('text')
    .attr('class', 'folder')
    .attr('x', function (d) {
      return d.x0 + 2;
    })
    .attr('y', function (d) {
      return d.y0 + 11;
    })
    .text(function (d) {
      return d.data.name + '/';
    });
})();
