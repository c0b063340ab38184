// A page that answers a form (a decision) shows the application: put the application's own
// address in the address bar, so that reloading reads it again instead of posting the form twice.
(function () {
  var canonical = document.querySelector('link[rel="canonical"]');
  if (!canonical) return;
  var url = new URL(canonical.href);
  if (url.origin === window.location.origin && url.pathname !== window.location.pathname) {
    history.replaceState(null, "", url.pathname);
  }
})();
