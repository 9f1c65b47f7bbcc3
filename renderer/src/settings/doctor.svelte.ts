/**
 * @file Loads the engine's `doctor` report once for the whole UI (renderer).
 */
import type { DoctorReport } from '../../../shared/contract';
import { engine } from '../app/client';
import { valueOr } from '../app/errors.svelte';

class DoctorController {
  report = $state<DoctorReport | null>(null);
  loading = $state(false);

  async load(): Promise<void> {
    this.loading = true;
    try {
      this.report = valueOr(await engine.call('doctor', {})) ?? null;
    } finally {
      this.loading = false;
    }
  }
}

/** The shared doctor report. */
export const doctor = new DoctorController();
