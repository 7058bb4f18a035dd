// The HTML step-through's behaviour: the release selector shows one release's runs, and Mermaid (bundled in
// the page) draws the sequence diagrams that are visible, lazily, so hidden and collapsed ones cost nothing.
// body[data-diagrams] is "rendering" while a batch is drawn and "done" when every visible diagram is drawn.
(function () {
  'use strict';
  var select = document.getElementById('release');
  var pending = Promise.resolve();
  var batches = 0;

  // A kernelsim built without Mermaid (no npm at build time) leaves each diagram as its text.
  var hasMermaid = typeof mermaid !== 'undefined';
  if (hasMermaid) mermaid.initialize({
    startOnLoad: false, securityLevel: 'strict', theme: 'neutral',
    sequence: { useMaxWidth: true, wrap: false, width: 90, actorMargin: 16, boxMargin: 6, noteMargin: 4, messageFontSize: 12, noteFontSize: 11, actorFontSize: 12 }
  });

  function renderVisible() {
    var nodes = Array.prototype.filter.call(
      document.querySelectorAll('pre.mermaid:not([data-queued])'),
      function (n) { return n.offsetParent !== null; });
    if (nodes.length === 0 || !hasMermaid) return;
    nodes.forEach(function (n) { n.setAttribute('data-queued', ''); });
    batches++;
    document.body.setAttribute('data-diagrams', 'rendering');
    pending = pending
      .then(function () { return mermaid.run({ nodes: nodes }); })
      .catch(function (e) { console.error('diagram: ' + e); })
      .then(function () { if (--batches === 0) document.body.setAttribute('data-diagrams', 'done'); });
  }

  function show(release) {
    document.querySelectorAll('section.run').forEach(function (s) {
      s.hidden = s.getAttribute('data-release') !== release;
    });
    document.querySelectorAll('[data-col]').forEach(function (c) {
      c.classList.toggle('selected', c.getAttribute('data-col') === release);
    });
    document.body.setAttribute('data-release', release);
    renderVisible();
    if (batches === 0) document.body.setAttribute('data-diagrams', 'done');
  }

  select.addEventListener('change', function () { show(select.value); });
  // <details> fires "toggle" without bubbling: listen in the capture phase.
  document.addEventListener('toggle', function (e) { if (e.target.open) renderVisible(); }, true);
  show(select.value);
})();
