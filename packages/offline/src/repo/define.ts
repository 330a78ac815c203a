/**
 * Typed helpers for writing a feature repo in `lockstep.config.ts`. They return their argument unchanged (a repo is
 * plain, serialisable data); validation happens when the repo is loaded or a store opens (see validate.ts).
 */
import type { FeatureViewDefinition, ModelDefinition, RepoDefinition } from './types.ts';

/** Declares a feature repo: `export default defineRepo({ project, entities, sources, labels, views, models })`. */
export function defineRepo<const T extends RepoDefinition>(repo: T): T {
  return repo;
}

/** Declares one feature view (so views can live in their own modules and be listed in `defineRepo({ views })`). */
export function defineFeatureView<const T extends FeatureViewDefinition>(view: T): T {
  return view;
}

/** Declares one model's inputs (its input spec, entity key mapping and request fields). */
export function defineModel<const T extends ModelDefinition>(model: T): T {
  return model;
}
