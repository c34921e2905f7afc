import { type Logger, RetryableError } from '@dispatch/platform';
import { type Client, types } from 'cassandra-driver';

/**
 * Read-model generations. The tables of generation N live in keyspace `<control>_g<N>`; one row of
 * `<control>.read_model_generations` says which generation is active (read by the API, written by
 * the live consumer) and which one a rebuild is filling (written by the rebuild AND the live
 * consumer, so events arriving during the rebuild are not lost). Claiming and switching are
 * lightweight transactions on that one row: the switch is atomic.
 */

export const READ_MODEL_NAME = 'orders';

export interface GenerationState {
  active: number;
  building: number | null;
  /** The highest generation number ever handed out (abandoned rebuilds included). */
  last: number;
  previous: number | null;
  buildingStartedAt: Date | null;
  switchedAt: Date | null;
}

export class GenerationConflictError extends Error {
  override readonly name = 'GenerationConflictError';
}

export function generationKeyspace(controlKeyspace: string, generation: number): string {
  return `${controlKeyspace}_g${generation}`;
}

const LWT = { prepare: true, serialConsistency: types.consistencies.localSerial };

export class GenerationStore {
  constructor(
    private readonly client: Client,
    readonly controlKeyspace: string,
  ) {}

  keyspaceOf(generation: number): string {
    return generationKeyspace(this.controlKeyspace, generation);
  }

  /** Creates the state row (generation 1 active) unless it exists; returns the current state. */
  async ensureInitialized(): Promise<GenerationState> {
    await this.client.execute(
      `INSERT INTO ${this.controlKeyspace}.read_model_generations (name, active, last) VALUES (?, 1, 1) IF NOT EXISTS`,
      [READ_MODEL_NAME],
      LWT,
    );
    return this.read();
  }

  async read(): Promise<GenerationState> {
    const row = (
      await this.client.execute(
        `SELECT active, building, last, previous, building_started_at, switched_at
         FROM ${this.controlKeyspace}.read_model_generations WHERE name = ?`,
        [READ_MODEL_NAME],
        { prepare: true },
      )
    ).first();
    if (!row || typeof row.get('active') !== 'number') {
      throw new GenerationConflictError(
        `${this.controlKeyspace}.read_model_generations has no '${READ_MODEL_NAME}' row: start query-api once first`,
      );
    }
    return {
      active: row.get('active') as number,
      building: (row.get('building') as number | null) ?? null,
      last: row.get('last') as number,
      previous: (row.get('previous') as number | null) ?? null,
      buildingStartedAt: (row.get('building_started_at') as Date | null) ?? null,
      switchedAt: (row.get('switched_at') as Date | null) ?? null,
    };
  }

  /**
   * Reserves the next generation number for a rebuild (its keyspace is created next, before live
   * consumers hear of it). Refuses while another rebuild is building, unless `takeOver` names that
   * generation (a rebuild that died).
   */
  async reserveGeneration(takeOver?: number): Promise<{ generation: number; replacing: number | null }> {
    const state = await this.read();
    if (state.building !== null && state.building !== takeOver) {
      throw new GenerationConflictError(
        `generation ${state.building} is already being built (since ${state.buildingStartedAt?.toISOString() ?? '?'}); ` +
          'if that rebuild died, run rebuild again with --force',
      );
    }
    const generation = state.last + 1;
    const result = await this.client.execute(
      `UPDATE ${this.controlKeyspace}.read_model_generations SET last = ? WHERE name = ? IF last = ? AND building = ?`,
      [generation, READ_MODEL_NAME, state.last, state.building],
      LWT,
    );
    if (!result.wasApplied()) {
      throw new GenerationConflictError(
        'another rebuild reserved a generation at the same moment; try again',
      );
    }
    return { generation, replacing: state.building };
  }

  /** Marks a reserved generation as being built: from now on live consumers write to it too. */
  async startBuilding(generation: number, replacing: number | null): Promise<void> {
    const result = await this.client.execute(
      `UPDATE ${this.controlKeyspace}.read_model_generations SET building = ?, building_started_at = ?
       WHERE name = ? IF last = ? AND building = ?`,
      [generation, new Date(), READ_MODEL_NAME, generation, replacing],
      LWT,
    );
    if (!result.wasApplied()) {
      throw new GenerationConflictError(
        `generation ${generation} was overtaken by another rebuild before it started building`,
      );
    }
  }

  /** Makes `generation` active in one atomic write; it must be the one being built. */
  async switchTo(generation: number): Promise<GenerationState> {
    const state = await this.read();
    const result = await this.client.execute(
      `UPDATE ${this.controlKeyspace}.read_model_generations
       SET active = ?, previous = ?, building = null, switched_at = ? WHERE name = ? IF building = ?`,
      [generation, state.active, new Date(), READ_MODEL_NAME, generation],
      LWT,
    );
    if (!result.wasApplied()) {
      throw new GenerationConflictError(
        `generation ${generation} is no longer the one being built (another rebuild took over with --force?)`,
      );
    }
    return this.read();
  }

  /** Gives up a rebuild: live consumers stop writing to its keyspace. */
  async abandon(generation: number): Promise<boolean> {
    const result = await this.client.execute(
      `UPDATE ${this.controlKeyspace}.read_model_generations SET building = null WHERE name = ? IF building = ?`,
      [READ_MODEL_NAME, generation],
      LWT,
    );
    return result.wasApplied();
  }
}

/** Cassandra could not be read for a while: writes wait (the consumer retries, never dead-letters). */
export class StaleGenerationError extends RetryableError {
  override readonly name = 'StaleGenerationError';
}

/**
 * What this instance believes about generations, re-read every `refreshMs`. Writes go to the
 * active and the building generation. If the view is older than two refresh periods (Cassandra
 * unreachable), `writeKeyspaces` throws instead of guessing: a rebuild waits three periods after
 * claiming before it reads its end offsets, so every event past them is written by a consumer
 * that already knows about the new generation.
 */
export class GenerationTracker {
  private state: GenerationState | undefined;
  private refreshedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(state: GenerationState) => void>();

  constructor(
    private readonly store: GenerationStore,
    private readonly refreshMs: number,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<GenerationState> {
    const state = await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) =>
        this.logger.warn({ err }, 'could not re-read the read-model generation; keeping the last one'),
      );
    }, this.refreshMs);
    this.timer.unref();
    return state;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Called after each refresh that changed the state. */
  onChange(listener: (state: GenerationState) => void): void {
    this.listeners.add(listener);
  }

  async refresh(): Promise<GenerationState> {
    const next = await this.store.read();
    const before = this.state;
    this.state = next;
    this.refreshedAt = Date.now();
    if (before && (before.active !== next.active || before.building !== next.building)) {
      this.logger.info(
        { active: next.active, building: next.building, previousActive: before.active },
        'read-model generation changed',
      );
      for (const listener of this.listeners) listener(next);
    }
    return next;
  }

  private current(): GenerationState {
    if (!this.state) throw new StaleGenerationError('the generation tracker has not started');
    return this.state;
  }

  /** The keyspace reads go to. */
  readKeyspace(): string {
    return this.store.keyspaceOf(this.current().active);
  }

  /** The keyspaces an applied event must reach: the active one, and the one being rebuilt. */
  writeKeyspaces(): string[] {
    const state = this.current();
    const ageMs = Date.now() - this.refreshedAt;
    if (ageMs > 2 * this.refreshMs) {
      throw new StaleGenerationError(
        `the read-model generation was last read ${ageMs} ms ago; not writing until it is re-read`,
      );
    }
    const generations = state.building === null ? [state.active] : [state.active, state.building];
    return generations.map((g) => this.store.keyspaceOf(g));
  }
}
