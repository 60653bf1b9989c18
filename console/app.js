// The console's entry point: sign in with a token, find out the role, show the
// consumer's or the operator's view, sign out.
import { ApiError, clearToken, detectRole, getToken, onUnauthorized, setToken } from "./api.js";
import { resetConsumer, showConsumer } from "./consumer.js";
import { $, show } from "./dom.js";
import { resetOperator, showOperator } from "./operator.js";

function showSignIn(message) {
  show($("consumer-view"), false);
  show($("operator-view"), false);
  show($("session"), false);
  show($("sign-in"), true);
  const err = $("sign-in-error");
  err.textContent = message || "";
  show(err, Boolean(message));
  $("token").value = "";
  $("token").focus();
}

async function enter(role) {
  show($("sign-in"), false);
  show($("session"), true);
  $("session-label").textContent = role === "operator" ? "Signed in as an operator" : "Signed in as a consumer";
  if (role === "operator") {
    show($("consumer-view"), false);
    show($("operator-view"), true);
    await showOperator();
  } else {
    show($("operator-view"), false);
    show($("consumer-view"), true);
    await showConsumer();
  }
  $("main").focus();
}

function signOut(message) {
  clearToken();
  resetConsumer();
  resetOperator();
  showSignIn(message);
}

async function onSignIn(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  const err = $("sign-in-error");
  if (!token) {
    err.textContent = "Enter your access token.";
    show(err, true);
    $("token").focus();
    return;
  }
  const button = $("sign-in-button");
  button.disabled = true;
  try {
    const role = await detectRole(token);
    setToken(token);
    $("token").value = "";
    await enter(role);
  } catch (e) {
    const message = e instanceof ApiError && e.status === 401 ? "This token is not valid (unknown or revoked)." : e.message;
    err.textContent = message;
    show(err, true);
    $("token").focus();
  } finally {
    button.disabled = false;
  }
}

async function start() {
  $("sign-in-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", () => signOut());
  onUnauthorized(() => signOut("The gateway no longer accepts your token (revoked?). Sign in again."));
  // A reload of the tab keeps the session (sessionStorage); the role is checked again.
  const token = getToken();
  if (!token) return showSignIn();
  try {
    await enter(await detectRole(token));
  } catch (e) {
    signOut(e instanceof ApiError && e.status === 401 ? "" : `The gateway could not be reached: ${e.message}`);
  }
}

start();
