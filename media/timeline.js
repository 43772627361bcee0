// Provenance Timeline webview script (loaded with the page's CSP nonce; no remote content).
// Hover or focus shows a mark's details (as text, never HTML); click or Enter on a commit asks the
// extension to open its diff. The extension validates every message.
(function () {
  // eslint-disable-next-line no-undef
  const vscode = acquireVsCodeApi();
  const details = document.getElementById('details');
  let pinned = null;

  function markOf(el) {
    return el && el.closest ? el.closest('g.commit, g.buildmark, g.runmark') : null;
  }

  function show(g) {
    if (!details) return;
    if (!g) {
      if (!pinned) details.hidden = true;
      return;
    }
    const title = g.querySelector('title');
    details.textContent = title ? title.textContent : '';
    const sha = g.getAttribute('data-sha');
    if (sha) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Open diff';
      button.addEventListener('click', () => vscode.postMessage({ type: 'openDiff', sha }));
      details.appendChild(document.createElement('br'));
      details.appendChild(button);
    }
    details.hidden = false;
  }

  document.addEventListener('mouseover', (e) => {
    if (!pinned) show(markOf(e.target));
  });
  document.addEventListener('focusin', (e) => show(markOf(e.target)));
  document.addEventListener('click', (e) => {
    if (details && details.contains(e.target)) return;
    const g = markOf(e.target);
    pinned = g;
    show(g);
    const sha = g && g.getAttribute('data-sha');
    if (sha) vscode.postMessage({ type: 'openDiff', sha });
  });
  document.addEventListener('keydown', (e) => {
    const g = markOf(document.activeElement);
    const sha = g && g.getAttribute('data-sha');
    if (sha && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      vscode.postMessage({ type: 'openDiff', sha });
    }
    if (e.key === 'Escape') {
      pinned = null;
      show(null);
    }
  });
})();
