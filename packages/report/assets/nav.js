// Keyboard navigation on annotated source pages: n / p jump to the next / previous line that is
// uncovered or has a branch arm never taken.
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.miss, tr.br-missed'));
  if (!rows.length) return;
  var current = -1;
  function go(i) {
    if (current >= 0) rows[current].classList.remove('current');
    current = (i + rows.length) % rows.length;
    rows[current].classList.add('current');
    rows[current].scrollIntoView({ block: 'center' });
    history.replaceState(null, '', '#' + rows[current].id);
  }
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'n' || e.key === 'j') go(current + 1);
    else if (e.key === 'p' || e.key === 'k') go(current - 1);
  });
})();
