// A row that scrolls sideways on a narrow screen (the agent tabs) shows that it does: a fade and an arrow button on
// the side where more is hidden; the arrow scrolls by most of a screen's width.
import { h, icon } from '../dom';

export function scrollHint(row: HTMLElement, label: string): { element: HTMLElement; update(): void; dispose(): void } {
  const before = h('button', { type: 'button', class: 'scroll-more scroll-more-before', 'aria-label': `Scroll ${label} back`, tabindex: '-1' }, icon('arrowLeft', 16));
  const after = h('button', { type: 'button', class: 'scroll-more scroll-more-after', 'aria-label': `More ${label}`, tabindex: '-1' }, icon('arrowLeft', 16));
  const element = h('div', { class: 'scroll-hint' }, row, before, after);
  const update = () => {
    const max = row.scrollWidth - row.clientWidth;
    element.dataset.moreBefore = String(row.scrollLeft > 2);
    element.dataset.moreAfter = String(max - row.scrollLeft > 2);
  };
  const step = () => Math.max(120, row.clientWidth * 0.7);
  before.addEventListener('click', () => row.scrollBy({ left: -step(), behavior: 'smooth' }));
  after.addEventListener('click', () => row.scrollBy({ left: step(), behavior: 'smooth' }));
  row.addEventListener('scroll', update, { passive: true });
  const observer = typeof ResizeObserver === 'undefined' ? undefined : new ResizeObserver(update);
  observer?.observe(row);
  requestAnimationFrame(update);
  return { element, update, dispose: () => observer?.disconnect() };
}

/** Scrolls a row so that `child` is fully in view (the selected tab after a keyboard move or a link). */
export function scrollIntoRow(row: HTMLElement, child: HTMLElement): void {
  const rowBox = row.getBoundingClientRect();
  const childBox = child.getBoundingClientRect();
  // The margin clears the fade and arrow button drawn over the row's ends, so the chosen tab is not half covered.
  const margin = 44;
  if (childBox.left < rowBox.left + margin) row.scrollBy({ left: childBox.left - rowBox.left - margin });
  else if (childBox.right > rowBox.right - margin) row.scrollBy({ left: childBox.right - rowBox.right + margin });
}
