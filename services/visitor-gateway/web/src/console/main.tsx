// The console's entry: take the token (URL fragment or the sign-in form), then the app.
import { render } from "preact";
import { useState } from "preact/hooks";
import { readClaims } from "../common/jwt";
import { App } from "./App";
import "./console.css";

const STORE = "livechat.console.token";

function tokenFromFragment(): string | null {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const token = params.get("token");
  if (token) {
    sessionStorage.setItem(STORE, token);
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return token ?? sessionStorage.getItem(STORE);
}

function Root() {
  const [token, setToken] = useState<string | null>(tokenFromFragment);
  const [draft, setDraft] = useState("");
  const [error, setError] = useState<string | null>(null);
  const claims = token ? readClaims(token) : null;
  if (token && claims) {
    return (
      <App
        token={token}
        claims={claims}
        signOut={() => {
          sessionStorage.removeItem(STORE);
          setToken(null);
        }}
      />
    );
  }
  return (
    <main class="sign-in">
      <h1>Sign in</h1>
      <p>Paste the operator token your identity provider issued (or open the link `make run` prints).</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const pasted = draft.trim();
          if (!readClaims(pasted)) {
            setError("That is not an operator token (a JWT with sub and site).");
            return;
          }
          sessionStorage.setItem(STORE, pasted);
          setToken(pasted);
        }}
      >
        <label>
          Operator token
          <textarea value={draft} onInput={(e) => setDraft(e.currentTarget.value)} rows={4} />
        </label>
        {error && <p role="alert" class="error">{error}</p>}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

render(<Root />, document.getElementById("app")!);
