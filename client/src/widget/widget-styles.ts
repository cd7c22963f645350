// The widget's stylesheet, inside its Shadow DOM: `all: initial` on the host keeps the page's styles out, and
// nothing here leaks into the page. --accent is the owner's colour.
export const WIDGET_CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.root { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #0f172a; --accent: #2563eb; }
.bubble { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 56px; height: 56px; border-radius: 50%; border: 0; background: var(--accent); color: #fff; cursor: pointer; box-shadow: 0 6px 20px rgba(15,23,42,.25); display: grid; place-items: center; }
.bubble:focus-visible, button:focus-visible, textarea:focus-visible, a:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.bubble svg { width: 26px; height: 26px; }
.panel { position: fixed; right: 20px; bottom: 88px; z-index: 2147483000; width: 380px; max-width: calc(100vw - 24px); height: 560px; max-height: calc(100vh - 110px); background: #fff; border-radius: 14px; box-shadow: 0 12px 40px rgba(15,23,42,.28); display: flex; flex-direction: column; overflow: hidden; }
.panel[hidden] { display: none; }
.mode-page .panel { position: static; width: 100%; max-width: 760px; height: 100vh; max-height: none; margin: 0 auto; border-radius: 0; box-shadow: none; border-left: 1px solid #e2e8f0; border-right: 1px solid #e2e8f0; }
.header { display: flex; align-items: center; gap: 8px; padding: 12px 14px; background: var(--accent); color: #fff; }
.title { margin: 0; font-size: 16px; font-weight: 650; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.close { border: 0; background: transparent; color: inherit; font-size: 22px; line-height: 1; width: 36px; height: 36px; border-radius: 8px; cursor: pointer; }
.log { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 10px; background: #f8fafc; }
.message { max-width: 88%; padding: 9px 12px; border-radius: 12px; overflow-wrap: anywhere; }
.message p { margin: 0 0 .5em; } .message p:last-child { margin-bottom: 0; }
.message pre { overflow-x: auto; background: #0f172a; color: #e2e8f0; padding: 8px; border-radius: 8px; font-size: 13px; }
.message code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .92em; }
.message a { color: inherit; text-decoration: underline; }
.message ul, .message ol { margin: .3em 0; padding-left: 1.3em; }
.assistant { align-self: flex-start; background: #fff; border: 1px solid #e2e8f0; }
.user { align-self: flex-end; background: var(--accent); color: #fff; white-space: pre-wrap; }
.error-text { color: #b91c1c; font-size: 13px; }
.suggestions { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 14px 8px; background: #f8fafc; }
.suggestion { border: 1px solid var(--accent); color: var(--accent); background: #fff; border-radius: 999px; padding: 6px 12px; font: inherit; font-size: 13px; cursor: pointer; min-height: 36px; }
.composer { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e2e8f0; background: #fff; }
.composer textarea { flex: 1; resize: none; font: inherit; padding: 8px 10px; border: 1px solid #cbd5e1; border-radius: 10px; min-height: 44px; max-height: 140px; color: #0f172a; background: #fff; }
.send { border: 0; border-radius: 10px; background: var(--accent); color: #fff; font: inherit; font-weight: 600; padding: 0 16px; min-height: 44px; cursor: pointer; }
.send:disabled { opacity: .6; cursor: default; }
.status { min-height: 0; margin: 0; padding: 0 14px; font-size: 13px; color: #b91c1c; background: #fff; }
.status:not(:empty) { padding: 6px 14px; }
.footer { margin: 0; padding: 4px 14px 8px; font-size: 11px; color: #64748b; background: #fff; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.unavailable { padding: 24px; text-align: center; color: #334155; }
@media (max-width: 480px) {
  .panel { right: 0; bottom: 0; width: 100vw; max-width: 100vw; height: 100%; max-height: 100%; border-radius: 0; }
  .bubble { right: 14px; bottom: 14px; }
  .panel:not([hidden]) + .bubble { display: none; }
  .mode-page .panel { border: 0; }
}
`;
