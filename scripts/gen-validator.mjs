// Precompiles the config JSON schema into a standalone validator, so the CLI and the
// extension validate .provenance.json without loading and compiling ajv at start-up.
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const schema = JSON.parse(readFileSync(new URL('../schema/provenance.schema.json', import.meta.url), 'utf8'));
const ajv = new Ajv({ code: { source: true, esm: false }, allErrors: true, strict: false });
const validate = ajv.compile(schema);
mkdirSync(new URL('../src/core/generated/', import.meta.url), { recursive: true });
writeFileSync(new URL('../src/core/generated/validateConfig.js', import.meta.url), standaloneCode(ajv, validate));
writeFileSync(
  new URL('../src/core/generated/validateConfig.d.ts', import.meta.url),
  `export interface ValidationError { instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }
declare function validate(data: unknown): boolean;
declare namespace validate { let errors: ValidationError[] | null | undefined; }
export default validate;
`,
);
