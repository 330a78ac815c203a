/** Every CLI command, in the order `lockstep --help` lists them. Add one import and one entry per command. */
import type { Command } from 'commander';
import { register as gateway } from './gateway.ts';
import { register as generate } from './generate.ts';

export const commands: Array<(program: Command) => void> = [gateway, generate];
