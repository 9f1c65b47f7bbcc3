/**
 * @file Vitest setup of the renderer project: fills a gap of happy-dom that Svelte's `bind:value` on `<select>` meets
 * (renderer tests only).
 *
 * happy-dom's selector engine does not match `:checked` on selected `<option>`s, and Svelte reads a select's value
 * with `select.querySelector(':checked')`; without this, every bound select would read as its first option. The
 * answer is the DOM's own: the options whose `selected` is true.
 */
const query = HTMLSelectElement.prototype.querySelector;
const queryAll = HTMLSelectElement.prototype.querySelectorAll;

/** The selected options, read from each option (happy-dom's `selectedOptions` can lag behind a selection). */
const selected = (select: HTMLSelectElement) => Array.from(select.options).filter((o) => o.selected);

HTMLSelectElement.prototype.querySelector = function (this: HTMLSelectElement, selector: string) {
  return selector === ':checked' ? (selected(this)[0] ?? null) : query.call(this, selector);
} as typeof query;

HTMLSelectElement.prototype.querySelectorAll = function (this: HTMLSelectElement, selector: string) {
  // A static list, as querySelectorAll returns.
  return selector === ':checked' ? (selected(this) as unknown as NodeListOf<Element>) : queryAll.call(this, selector);
} as typeof queryAll;
