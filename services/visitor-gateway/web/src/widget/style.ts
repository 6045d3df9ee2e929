// The widget's styles, inside its shadow root: nothing leaks into the host page, nothing of the
// host page's styles leaks in (`all: initial` on the root).
export const STYLE = `
:host { all: initial; }
.root { all: initial; font-family: system-ui, sans-serif; font-size: 15px; color: #1b1f24; position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; display: flex; flex-direction: column; align-items: flex-end; gap: 8px; }
button { font: inherit; padding: 6px 12px; border: 1px solid #8a94a3; border-radius: 6px; background: #fff; cursor: pointer; color: inherit; }
button.primary { background: #1557b0; border-color: #1557b0; color: #fff; }
button.link { border: none; background: none; color: #1557b0; text-decoration: underline; padding: 0; }
:focus-visible { outline: 3px solid #f29900; outline-offset: 2px; }
.launcher { border-radius: 999px; padding: 10px 18px; background: #1557b0; color: #fff; border: none; box-shadow: 0 2px 8px #0004; }
.panel { width: 320px; max-height: 70vh; overflow: auto; background: #fff; border-radius: 10px; box-shadow: 0 6px 24px #0004; padding: 12px 16px; box-sizing: border-box; }
.panel h2 { font-size: 17px; margin: 0 0 8px; }
form { display: flex; flex-direction: column; gap: 8px; margin: 0; }
label { display: flex; flex-direction: column; gap: 2px; font-size: 13px; }
input, textarea { font: inherit; padding: 5px; border: 1px solid #8a94a3; border-radius: 4px; }
.row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
.muted { color: #5b6675; font-size: 13px; }
.notice { background: #fde2e1; padding: 6px; border-radius: 4px; font-size: 13px; }
.held { background: #fff4d6; padding: 6px; border-radius: 4px; }
ol { list-style: none; padding: 6px; margin: 0 0 8px; background: #f5f6f8; border-radius: 6px; max-height: 40vh; overflow: auto; }
li { padding: 3px 0; }
li.visitor { text-align: right; }
.big { font-size: 22px; font-weight: bold; }
`;
