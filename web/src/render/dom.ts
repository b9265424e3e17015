/**
 * A tiny element builder (the page needs no framework): h('button', {class: 'x', onclick}, 'Go').
 * Keys starting with "on" become listeners, `dataset` fills data-* attributes, other keys are
 * attributes (false/undefined leave them out).
 */

type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value as EventListener);
    } else if (key === 'dataset' && typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) el.dataset[k] = String(v);
    } else if (key === 'value' && (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement)) {
      el.value = String(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/** The element with this id, which the page's HTML must have. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** A labelled number input; `onchange` gets the parsed value. */
export function numberField(label: string, attrs: Attrs, onchange: (v: number) => void): HTMLLabelElement {
  const input = h('input', { type: 'number', ...attrs });
  input.addEventListener('change', () => onchange(Number(input.value)));
  return h('label', { class: 'field' }, h('span', {}, label), input);
}
