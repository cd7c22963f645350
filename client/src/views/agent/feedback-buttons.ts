// Thumbs up / down on one answer, by its request id (counted in the agent's experiments).
import { request } from '../../api';
import { h } from '../../dom';
import { errorMessage } from '../../forms';

export function feedbackButtons(workspace: string, requestId: string): HTMLElement {
  const status = h('span', { class: 'muted small', role: 'status' });
  const rate = (rating: 'up' | 'down', button: HTMLButtonElement) => async () => {
    for (const other of wrapper.querySelectorAll('button')) other.setAttribute('aria-pressed', String(other === button));
    try {
      await request('POST', `/api/workspaces/${encodeURIComponent(workspace)}/feedback`, { requestId, rating });
      status.textContent = 'Thanks!';
    } catch (error) {
      status.textContent = errorMessage(error);
    }
  };
  const up = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': 'Good answer', 'aria-pressed': 'false', dataset: { rating: 'up' } }, 'Helpful');
  const down = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': 'Bad answer', 'aria-pressed': 'false', dataset: { rating: 'down' } }, 'Not helpful');
  up.addEventListener('click', rate('up', up));
  down.addEventListener('click', rate('down', down));
  const wrapper = h('span', { class: 'feedback', dataset: { requestId } }, up, down, status);
  return wrapper;
}
