/**
 * @file Loads the engine's `doctor` report for the whole UI: the status bar, the system card, the Settings screen
 * (renderer).
 */
import type { EngineClient } from '../../../shared/client';
import type { DoctorReport } from '../../../shared/contract';
import { valueOr } from '../app/errors.svelte';

/** The doctor report of this machine. */
export class DoctorController {
  report = $state<DoctorReport | null>(null);
  loading = $state(false);

  constructor(private readonly engine: EngineClient) {}

  async load(): Promise<void> {
    this.loading = true;
    try {
      this.report = valueOr(await this.engine.call('doctor', {})) ?? null;
    } finally {
      this.loading = false;
    }
  }
}
