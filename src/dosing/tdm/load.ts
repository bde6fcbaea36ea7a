// The only file of src/dosing/tdm that does I/O: reads and validates knowledge/pk-models.json.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validatePkModels, type PkModelFile } from './pkModel.js';

export function loadPkModels(file = path.resolve(process.cwd(), 'knowledge/pk-models.json')): PkModelFile {
  return validatePkModels(JSON.parse(readFileSync(file, 'utf8')) as unknown);
}
