// The embeddable widget: `<script src=".../widget.js" data-site="acme">` adds one element to the
// page and renders inside its shadow root. It defines no global name.
import { render } from "preact";
import { STYLE } from "./style";
import { Widget } from "./Widget";

const script = document.currentScript as HTMLScriptElement | null;
const site = script?.dataset.site;
if (!script || !site) {
  console.warn("livechat widget: add data-site=\"<your site id>\" to its script tag");
} else {
  const base = new URL(script.src, window.location.href).origin;
  const heartbeatSeconds = Math.max(1, Number(script.dataset.heartbeatSeconds ?? "15") || 15);
  const mount = () => {
    const host = document.createElement("livechat-widget");
    document.body.appendChild(host);
    const shadow = host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    shadow.appendChild(style);
    const container = document.createElement("div");
    shadow.appendChild(container);
    render(<Widget base={base} site={site} heartbeatSeconds={heartbeatSeconds} />, container);
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
}
