// The identity provider returns the ID token and the state in the URL fragment, which the
// server never sees: copy them into the form and post it (same origin, so the cookies go).
(function () {
  var params = new URLSearchParams(window.location.hash.slice(1));
  var form = document.getElementById("idp-return");
  if (!form || !params.get("id_token")) return;
  form.elements.id_token.value = params.get("id_token");
  form.elements.state.value = params.get("state") || "";
  history.replaceState(null, "", window.location.pathname);
  form.submit();
})();
