// Library entry: load a spec, resolve it, generate artifacts.
import { loadSpecFile, parseSpecText } from './spec-file/load.js';
import { resolveModel, type Model } from './model.js';

export { SpecError, UserError, formatProblem, formatPath } from './errors.js';
export type { SpecProblem } from './errors.js';
export { parseSpecText, loadSpecFile } from './spec-file/load.js';
export { specSchema, specJsonSchema } from './spec-file/schema.js';
export { resolveModel } from './model.js';
export type * from './model.js';
export { generate, TARGETS } from './targets.js';
export { renderDiagram } from './diagram.js';
export type { Artifact, Target, TargetName } from './target.js';

/** Reads, validates and resolves a spec file (`-`: standard input, named `<stdin>` in problems). Throws SpecError listing every problem. */
export function loadModel(file: string): Model {
  return resolveModel(loadSpecFile(file));
}

/** The same from text (file is used in messages only). */
export function modelFromText(text: string, file = '<spec>'): Model {
  return resolveModel(parseSpecText(text, file));
}
