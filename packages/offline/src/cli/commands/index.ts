/** Every CLI command, in the order `lockstep --help` lists them. Add one import and one entry per command. */
import type { Command } from 'commander';
import { register as dataset } from './dataset.ts';
import { register as features } from './features.ts';
import { register as gateway } from './gateway.ts';
import { register as generate } from './generate.ts';
import { register as init } from './init.ts';
import { register as materialize } from './materialize.ts';
import { register as models } from './models.ts';
import { register as runs } from './runs.ts';
import { register as sync } from './sync.ts';
import { register as train } from './train.ts';
import { register as ui } from './ui.ts';
import { register as verifyConsistency } from './verify-consistency.ts';

export const commands: Array<(program: Command) => void> = [init, gateway, generate, features, dataset, runs, models, ui, sync, train, materialize, verifyConsistency];
