// check.mjs: checks one answer of vidgate's HTTP API against its OpenAPI
// 3.0 document, or lints the document's schemas.
//
//   node check.mjs OPENAPI.json METHOD PATH_TEMPLATE STATUS ANSWER.json
//     e.g. node check.mjs src/server/openapi.json get /api/videos/{id} 200 answer.json
//     exit 0: the answer fits; 1: it does not (one line per error);
//     2: usage, an unreadable file, or no JSON schema documented for that
//     operation and status.
//   node check.mjs OPENAPI.json --batch LIST.json
//     LIST.json: [{"method","path","status","answer"}]; exit 1 if any does
//     not fit (each error prefixed with its call).
//   node check.mjs OPENAPI.json --lint
//     compiles every schema (components, responses, parameters, request
//     bodies) in ajv's strict mode; exit 1 on any problem.
import { readFileSync } from "node:fs";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const USAGE =
  "usage: node check.mjs OPENAPI.json METHOD PATH_TEMPLATE STATUS ANSWER.json\n" +
  "       node check.mjs OPENAPI.json --lint\n" +
  "       node check.mjs OPENAPI.json --batch LIST.json";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
// The components' schemas are added to ajv as one schema with this id.
const COMPONENTS_ID = "openapi-components.json";

class UsageError extends Error {}

function readJson(file, what) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`${what} ${file}: ${e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} ${file} is not JSON: ${e.message}`);
  }
}

// An OpenAPI schema as ajv takes it: "#/components/schemas/X" points into
// the components' schema, and "x-" extensions (which ajv's strict mode would
// refuse as unknown keywords) are dropped. `nullable` stays: ajv implements
// OpenAPI 3.0's nullable itself (type T or null).
function toAjv(node, problems, where) {
  if (Array.isArray(node)) return node.map((n, i) => toAjv(n, problems, `${where}/${i}`));
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("x-")) continue;
    if (key === "$ref") {
      if (typeof value === "string" && value.startsWith("#/components/schemas/")) {
        out.$ref = COMPONENTS_ID + "#/$defs/" + value.slice("#/components/schemas/".length);
      } else {
        problems.push(`${where}: $ref ${JSON.stringify(value)} is not #/components/schemas/...`);
        out.$ref = value;
      }
      continue;
    }
    out[key] = toAjv(value, problems, `${where}/${key}`);
  }
  return out;
}

// Follows an OpenAPI (not JSON Schema) $ref, e.g. to #/components/responses/X.
function deref(doc, node, where) {
  const seen = new Set();
  while (node && typeof node.$ref === "string") {
    const ref = node.$ref;
    if (!ref.startsWith("#/") || seen.has(ref)) throw new UsageError(`${where}: cannot follow $ref ${ref}`);
    seen.add(ref);
    node = ref
      .slice(2)
      .split("/")
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce((n, p) => (n && typeof n === "object" ? n[p] : undefined), doc);
    if (node === undefined) throw new UsageError(`${where}: $ref ${ref} points at nothing`);
  }
  return node;
}

function newAjv(doc, problems) {
  const ajv = new Ajv({
    allErrors: true,
    // Strict: a misspelt keyword or a type mismatch in the document is an
    // error, not silently ignored. Union types come from `nullable`.
    strict: true,
    allowUnionTypes: true,
    logger: { log: console.log, warn: (m) => problems.push(`ajv: ${m}`), error: console.error },
  });
  addFormats(ajv);
  // OpenAPI's own annotation keywords: known, never validated.
  ajv.addVocabulary(["example", "xml", "externalDocs", "discriminator"]);
  const schemas = doc.components?.schemas ?? {};
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: toAjv(schemas, problems, "#/components/schemas") });
  return ajv;
}

// The media type object for JSON in a response or request body's content.
function jsonMedia(content) {
  for (const [type, media] of Object.entries(content ?? {})) {
    if (type.split(";")[0].trim().toLowerCase() === "application/json") return media;
  }
  return undefined;
}

// ajv's messages name the components' schema by the id given to ajv: say
// it as the document does.
function readable(message) {
  return message.replaceAll(`${COMPONENTS_ID}#/$defs/`, "#/components/schemas/");
}

function formatError(e) {
  const at = e.instancePath || "/";
  let detail = "";
  if (e.keyword === "additionalProperties") detail = `: ${JSON.stringify(e.params.additionalProperty)}`;
  else if (e.keyword === "enum") detail = `: ${JSON.stringify(e.params.allowedValues)}`;
  return `${at} ${e.message}${detail}`;
}

// The compiled schema of an operation's JSON answer with `status`.
function validatorFor(doc, ajv, method, pathTemplate, status) {
  const op = doc.paths?.[pathTemplate]?.[method.toLowerCase()];
  const name = `${method.toUpperCase()} ${pathTemplate}`;
  if (!op) throw new UsageError(`${name} is not documented`);
  status = String(status);
  if (!/^[1-5][0-9][0-9]$/.test(status)) throw new UsageError(`status '${status}' is not an HTTP status`);
  // As OpenAPI reads it: the status itself, then its range (4XX), then default.
  const responses = op.responses ?? {};
  const response = responses[status] ?? responses[`${status[0]}XX`] ?? responses.default;
  if (!response) throw new UsageError(`${name} documents no response ${status}`);
  const media = jsonMedia(deref(doc, response, `${name} ${status}`).content);
  if (!media?.schema) throw new UsageError(`${name} ${status} documents no application/json schema`);
  const problems = [];
  let validate;
  try {
    validate = ajv.compile(toAjv(media.schema, problems, `${name} ${status}`));
  } catch (e) {
    problems.push(`${name} ${status}: ${e.message}`);
  }
  // A document that does not compile cleanly cannot judge an answer.
  if (problems.length) throw new UsageError(readable(problems.join("\n")));
  return validate;
}

function newCheckedAjv(doc) {
  const problems = [];
  const ajv = newAjv(doc, problems);
  if (problems.length) throw new UsageError(readable(problems.join("\n")));
  return ajv;
}

function check(openapiFile, method, pathTemplate, status, answerFile) {
  const doc = readJson(openapiFile, "OpenAPI document");
  const validate = validatorFor(doc, newCheckedAjv(doc), method, pathTemplate, status);
  const text = (() => {
    try {
      return readFileSync(answerFile, "utf8");
    } catch (e) {
      throw new UsageError(`answer ${answerFile}: ${e.message}`);
    }
  })();
  let answer;
  try {
    answer = JSON.parse(text);
  } catch (e) {
    console.log(`/ the answer is not JSON: ${e.message.replaceAll("\n", "\\n")}`);
    return 1;
  }
  if (validate(answer)) return 0;
  for (const e of validate.errors) console.log(formatError(e));
  return 1;
}

// Many answers at once (one node start for a whole test): LIST.json is
// [{"method","path","status","answer"}], `answer` the parsed body. Every
// answer that does not fit is reported, each line prefixed with its call.
function batch(openapiFile, listFile) {
  const doc = readJson(openapiFile, "OpenAPI document");
  const list = readJson(listFile, "answer list");
  if (!Array.isArray(list) || !list.length) throw new UsageError(`${listFile} is not a non-empty array`);
  const ajv = newCheckedAjv(doc);
  let failed = 0;
  for (const item of list) {
    const call = `${String(item.method).toUpperCase()} ${item.path} ${item.status}`;
    const validate = validatorFor(doc, ajv, item.method, item.path, item.status);
    if (validate(item.answer)) continue;
    failed++;
    for (const e of validate.errors) console.log(`${call}: ${formatError(e)}`);
  }
  console.log(`${list.length} answers checked, ${failed} do not fit`);
  return failed ? 1 : 0;
}

function lint(openapiFile) {
  const doc = readJson(openapiFile, "OpenAPI document");
  const problems = [];
  if (!/^3\.0\.\d+$/.test(String(doc.openapi))) problems.push(`openapi is ${JSON.stringify(doc.openapi)}, not 3.0.x`);
  const ajv = newAjv(doc, problems);
  let compiled = 0;
  const compile = (schema, where) => {
    try {
      ajv.compile(toAjv(schema, problems, where));
      compiled++;
    } catch (e) {
      problems.push(`${where}: ${e.message}`);
    }
  };
  // Every component, even one no operation uses yet.
  for (const name of Object.keys(doc.components?.schemas ?? {})) {
    try {
      ajv.getSchema(`${COMPONENTS_ID}#/$defs/${name}`);
      compiled++;
    } catch (e) {
      problems.push(`#/components/schemas/${name}: ${e.message}`);
    }
  }
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const method of METHODS.filter((m) => item[m])) {
      const op = item[method];
      const name = `${method.toUpperCase()} ${path}`;
      try {
        const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => deref(doc, p, name));
        for (const p of params) if (p.schema) compile(p.schema, `${name} parameter ${p.name}`);
        // Each {name} in the template needs its path parameter, and back.
        const inPath = params.filter((p) => p.in === "path").map((p) => p.name);
        for (const t of templated) if (!inPath.includes(t)) problems.push(`${name}: no path parameter '${t}'`);
        for (const p of inPath) if (!templated.includes(p)) problems.push(`${name}: path parameter '${p}' is not in the path`);
        if (op.requestBody) {
          for (const [type, media] of Object.entries(deref(doc, op.requestBody, name).content ?? {})) {
            if (media.schema) compile(media.schema, `${name} request ${type}`);
          }
        }
        const responses = Object.entries(op.responses ?? {});
        if (!responses.length) problems.push(`${name}: no responses`);
        for (const [status, response] of responses) {
          if (!/^([1-5]([0-9][0-9]|XX)|default)$/.test(status)) problems.push(`${name}: response key '${status}'`);
          const r = deref(doc, response, `${name} ${status}`);
          if (typeof r.description !== "string") problems.push(`${name} ${status}: no description`);
          for (const [type, media] of Object.entries(r.content ?? {})) {
            if (media.schema) compile(media.schema, `${name} ${status} ${type}`);
          }
        }
      } catch (e) {
        problems.push(e.message);
      }
    }
  }
  for (const p of problems) console.log(readable(p));
  console.log(`${compiled} schemas compiled, ${problems.length} problems`);
  return problems.length ? 1 : 0;
}

function main(args) {
  if (args.length === 2 && args[1] === "--lint") return lint(args[0]);
  if (args.length === 3 && args[1] === "--batch") return batch(args[0], args[2]);
  if (args.length === 5) return check(...args);
  throw new UsageError(USAGE);
}

// Anything that stops the check itself (usage, a file, the document) is 2,
// never 1: 1 says the answer is wrong.
try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof UsageError ? e.message : e.stack);
  process.exitCode = 2;
}
