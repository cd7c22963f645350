// A button that opens a panel below it: toggles on click, closes on a click outside or Escape (focus back on the button).
export function attachPopover(container: HTMLElement, button: HTMLButtonElement, panel: HTMLElement): { open(): void; close(): void } {
  function open(): void {
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    document.addEventListener('click', outside, true);
    document.addEventListener('keydown', escape);
  }
  function close(): void {
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('click', outside, true);
    document.removeEventListener('keydown', escape);
  }
  const outside = (event: Event) => {
    if (!container.contains(event.target as Node)) close();
  };
  const escape = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      close();
      button.focus();
    }
  };
  button.addEventListener('click', () => (panel.hidden ? open() : close()));
  return { open, close };
}
