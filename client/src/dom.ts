// Tiny render helpers: h() builds elements, so views stay plain TypeScript without a framework.
type Child = Node | string | number | null | undefined | false | Child[];
type Attributes = Record<string, unknown> & {
  class?: string;
  dataset?: Record<string, string>;
  style?: Partial<CSSStyleDeclaration> | string;
};

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (attributes) {
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') element.className = String(value);
      else if (name === 'dataset') Object.assign(element.dataset, value);
      else if (name === 'style' && typeof value === 'object') Object.assign(element.style, value);
      else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value as EventListener);
      else if (name in element && typeof value !== 'string') (element as unknown as Record<string, unknown>)[name] = value;
      else if (name === 'value' || name === 'checked' || name === 'disabled' || name === 'selected') (element as unknown as Record<string, unknown>)[name] = value;
      else element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces all children of `parent`. */
export function mount(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Small inline icons (stroke paths, 24×24 viewBox), decorative unless labelled by their control. */
export function icon(name: keyof typeof ICON_PATHS, size = 18): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '2');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.classList.add('icon');
  for (const d of ICON_PATHS[name]) {
    const path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
  }
  return svg;
}

const ICON_PATHS = {
  bell: ['M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9', 'M10.3 21a1.94 1.94 0 0 0 3.4 0'],
  plus: ['M12 5v14', 'M5 12h14'],
  copy: ['M8 8h12v12H8z', 'M4 16V4h12'],
  check: ['M20 6 9 17l-5-5'],
  download: ['M12 3v12', 'M7 10l5 5 5-5', 'M5 21h14'],
  send: ['M22 2 11 13', 'M22 2 15 22l-4-9-9-4 20-7z'],
  key: ['M15 7a4 4 0 1 1-3.9 4.9L3 20v-3h3v-3h3l2.1-2.1', 'M16 7h.01'],
  trash: ['M3 6h18', 'M8 6V4h8v2', 'M6 6l1 14h10l1-14'],
  logout: ['M9 21H5V3h4', 'M16 17l5-5-5-5', 'M21 12H9'],
  bolt: ['M13 2 3 14h9l-1 8 10-12h-9l1-8z'],
  chart: ['M3 3v18h18', 'M8 17v-5', 'M13 17V8', 'M18 17v-9'],
  users: ['M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2', 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M22 21v-2a4 4 0 0 0-3-3.9', 'M16 3.1a4 4 0 0 1 0 7.8'],
  robot: ['M12 8V4', 'M8 4h8', 'M5 8h14v12H5z', 'M9 13h.01', 'M15 13h.01', 'M9 17h6'],
  arrowLeft: ['M19 12H5', 'M12 19l-7-7 7-7'],
  // publish
  share: ['M4 12v8h16v-8', 'M16 6l-4-4-4 4', 'M12 2v13'],
  chat: ['M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z'],
} as const;

export type IconName = keyof typeof ICON_PATHS;

export function announce(message: string): void {
  const announcer = document.getElementById('announcer');
  if (!announcer) return;
  announcer.textContent = '';
  window.setTimeout(() => (announcer.textContent = message), 30);
}

export function uniqueId(prefix: string): string {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}
let uniqueCounter = 0;
