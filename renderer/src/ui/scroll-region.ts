/**
 * @file A Svelte action for boxes that may scroll: while the content overflows, the box is a named region in the Tab
 * order, so a keyboard can scroll it even when it holds no control (WCAG 2.1.1; axe's scrollable-region-focusable)
 * (renderer).
 */
import type { Action } from 'svelte/action';

/** `use:scrollRegion={'Class probabilities'}`: the box's name while it scrolls. */
export const scrollRegion: Action<HTMLElement, string> = (node, label) => {
  let name = label;
  const measure = () => {
    const scrolls = node.scrollWidth > node.clientWidth + 1 || node.scrollHeight > node.clientHeight + 1;
    if (scrolls) {
      node.tabIndex = 0;
      node.setAttribute('role', 'region');
      node.setAttribute('aria-label', name);
    } else {
      node.removeAttribute('tabindex');
      node.removeAttribute('role');
      node.removeAttribute('aria-label');
    }
  };
  const ro = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(measure);
  ro?.observe(node);
  if (node.firstElementChild) ro?.observe(node.firstElementChild);
  measure();
  return {
    update(next: string) {
      name = next;
      measure();
    },
    destroy() {
      ro?.disconnect();
    },
  };
};
