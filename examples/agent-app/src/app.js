// A minimal Flex SDK agent app for samlflex: samlflex sends the browser
// here after a SAML login with a Flex user token in the fragment
// (#token=...). The app takes the token out of the address bar, hands it
// to the Flex SDK's createClient, and shows the signed-in worker.
//
// Plain browser JavaScript on the SDK's own browser bundle (window.FlexSdk),
// so it builds offline from the npm package alone (see build.js).
"use strict";

(function () {
  const show = (id, text) => {
    const el = document.getElementById(id);
    el.textContent = text;
    el.hidden = false;
  };
  const fail = (message) => {
    show("status", "Not signed in.");
    show("error", message);
    document.body.dataset.state = "error";
  };

  // The fragment is never sent to a server; still, remove the token from
  // the address bar and the history at once, so that it is not bookmarked,
  // shared or left in the back button.
  const params = new URLSearchParams(window.location.hash.slice(1));
  const token = params.get("token");
  if (window.location.hash) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  if (!token) {
    fail("No Flex token in the address. Sign in through your company's single sign-on link.");
    return;
  }
  if (!window.FlexSdk || typeof window.FlexSdk.createClient !== "function") {
    fail("The Flex SDK did not load.");
    return;
  }

  show("status", "Signing in to Flex…");
  document.body.dataset.state = "signing-in";
  window.FlexSdk.createClient(token, { appName: "samlflex example agent app", appVersion: "1.0.0" })
    .then((client) => client.getWorker().then((worker) => ({ client, worker })))
    .then(({ client, worker }) => {
      show("status", "Signed in to Flex.");
      document.getElementById("worker").hidden = false;
      show("worker-name", worker.name || "");
      show("worker-sid", worker.sid || "");
      show("worker-activity", worker.activityName || "");
      show("roles", (client.roles || []).join(", "));
      document.body.dataset.state = "signed-in";
    })
    .catch((err) => {
      // The SDK's errors carry a message and sometimes a code; never the token.
      const code = err && err.code ? " (" + err.code + ")" : "";
      fail("Flex refused the sign-in" + code + ": " + ((err && err.message) || String(err)));
    });
})();
