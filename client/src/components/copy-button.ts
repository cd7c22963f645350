// A button that copies a text to the clipboard and says so (for screen readers too).
import { announce, h, icon } from '../dom';

export function copyTextButton(text: () => string, label: string): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, icon('copy', 16), h('span', null, label));
  button.addEventListener('click', async () => {
    let copied = false;
    try {
      await navigator.clipboard.writeText(text());
      copied = true;
    } catch {
      copied = false;
    }
    announce(copied ? 'Copied to the clipboard.' : 'Copy failed: select the text and copy it by hand.');
  });
  return button;
}
