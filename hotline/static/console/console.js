// Shared console helpers: every fetch carries the CSRF token; pages poll with hotline.poll().
(function () {
  const token = () => document.querySelector('meta[name="csrf-token"]').content;
  window.hotline = {
    csrf: token,
    // POST form fields (an object) as x-www-form-urlencoded with the CSRF header; returns the Response.
    post(url, fields) {
      const body = new URLSearchParams(fields || {});
      return fetch(url, {method: 'POST', body, credentials: 'same-origin',
                         headers: {'X-CSRF-Token': token()}});
    },
    // Call fn every `ms` milliseconds while the page is visible (and once at once).
    poll(fn, ms) {
      const tick = () => { if (!document.hidden) fn(); };
      tick();
      return setInterval(tick, ms);
    },
  };
})();
