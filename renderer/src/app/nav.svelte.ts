/**
 * @file Which screen is shown (renderer).
 */

/** The screens of the app shell. */
export const SCREENS = [
  { id: 'projects', label: 'Projects' },
  { id: 'dataset', label: 'Dataset' },
  { id: 'learn', label: 'Learn' },
  { id: 'results', label: 'Results' },
  { id: 'experiments', label: 'Experiments' },
  { id: 'models', label: 'Models' },
  { id: 'settings', label: 'Settings' },
] as const;

/** A screen id. */
export type ScreenId = (typeof SCREENS)[number]['id'];

/** The app's navigation state: one per studio. */
export class Navigation {
  current = $state<ScreenId>('projects');

  go(id: ScreenId): void {
    this.current = id;
  }

  /** Goes to `id` once `work` is done, unless the user went to another screen meanwhile. */
  async goAfter(id: ScreenId, work: Promise<unknown>): Promise<void> {
    const from = this.current;
    await work;
    if (this.current === from) this.current = id;
  }
}
