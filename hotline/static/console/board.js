// The orders board: the table body is re-fetched with the current filters every few seconds, and at
// once when a filter changes; the URL keeps the filters so a reload or a shared link shows the same.
(function () {
  const table = document.getElementById('orders');
  const form = document.getElementById('board-filters');
  if (!table || !form) return;
  const body = table.tBodies[0];
  const stamp = document.getElementById('board-updated');
  const every = Number(table.dataset.refreshMs) || 3000;
  let latest = 0;

  const query = () => {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value) params.set(name, value);
    return params.toString();
  };

  async function refresh() {
    const mine = ++latest;  // an answer to an older request (before a filter change) is dropped
    try {
      const resp = await fetch(table.dataset.rowsUrl + '?' + query(),
                               {credentials: 'same-origin', headers: {'Accept': 'text/html'}});
      // A redirect means the session ended: leave the table as it is rather than show the login page in it.
      if (!resp.ok || resp.redirected || mine !== latest) return;
      const html = await resp.text();
      if (mine !== latest) return;
      body.innerHTML = html;
      if (stamp) stamp.dataset.updated = new Date().toISOString();
    } catch (err) {
      // Offline or the server restarting: the next tick tries again.
    }
  }

  function apply(event) {
    if (event) event.preventDefault();
    const q = query();
    history.replaceState(null, '', q ? '?' + q : location.pathname);
    refresh();
  }

  form.addEventListener('change', apply);
  form.addEventListener('submit', apply);
  const button = document.getElementById('filter-apply');
  if (button) button.hidden = true;  // filters apply as soon as they change
  hotline.poll(refresh, Math.min(every, 3000));
})();
