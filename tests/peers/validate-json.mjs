// Validates JSON documents against a JSON Schema (draft 2020-12) with Ajv, the reference
// validator the C++ validator and breakerctl --json output are checked against.
//
//   node validate-json.mjs SCHEMA FILE...     (FILE may be `-`: one JSON document from stdin)
//
// stdout: `ok FILE` or `invalid FILE: <instancePath> <message>` per file.
// Exit 0 when every file is valid, 1 when one is not (or cannot be read), 2 on a usage error.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const USAGE = 'usage: node validate-json.mjs SCHEMA FILE...   (FILE may be - for stdin)';

function usageError(message) {
    process.stderr.write(`validate-json: ${message}\n${USAGE}\n`);
    process.exit(2);
}

function readText(path) {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
}

const args = process.argv.slice(2);
if (args.length < 2)
    usageError('a schema and at least one file are needed');
const [schemaPath, ...files] = args;
if (schemaPath === '-')
    usageError('the schema cannot come from stdin');
if (files.filter((f) => f === '-').length > 1)
    usageError('stdin (-) can be given only once');

let validate;
try {
    const schema = JSON.parse(readText(schemaPath));
    const ajv = new Ajv2020({ allErrors: false });
    addFormats(ajv);
    // Sibling *.schema.json files may be referenced by $id (docs/schemas/ shares run-summary).
    const dir = dirname(resolve(schemaPath));
    for (const name of readdirSync(dir)) {
        if (!name.endsWith('.schema.json') || resolve(dir, name) === resolve(schemaPath))
            continue;
        const other = JSON.parse(readFileSync(resolve(dir, name), 'utf8'));
        if (other.$id && other.$id !== schema.$id)
            ajv.addSchema(other);
    }
    validate = ajv.compile(schema);
} catch (err) {
    usageError(`cannot use schema ${schemaPath}: ${err.message}`);
}

let failed = false;
for (const file of files) {
    let doc;
    try {
        const text = readText(file);
        try {
            doc = JSON.parse(text);
        } catch (err) {
            process.stdout.write(`invalid ${file}: (not JSON) ${err.message}\n`);
            failed = true;
            continue;
        }
    } catch (err) {
        process.stdout.write(`invalid ${file}: (unreadable) ${err.message}\n`);
        failed = true;
        continue;
    }
    if (validate(doc)) {
        process.stdout.write(`ok ${file}\n`);
    } else {
        const e = validate.errors[0];
        const where = e.instancePath === '' ? '/' : e.instancePath;
        const extra = e.keyword === 'additionalProperties' ? ` '${e.params.additionalProperty}'` : '';
        process.stdout.write(`invalid ${file}: ${where} ${e.message}${extra}\n`);
        failed = true;
    }
}
process.exit(failed ? 1 : 0);
