// JSON Schema as the tool and structured-output surface uses it: checking that a schema is one (tool parameters,
// response_format), checking a value against it, and a deterministic value that satisfies it (the simulator's).
// Compilation and value checks are zod's JSON Schema reader; the keyword shapes it tolerates are checked here.
import { z } from 'zod';

const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'] as const;
type JsonSchemaObject = Record<string, unknown>;

const MAX_DEPTH = 32;

const schemaOrBoolean: z.ZodType = z.lazy(() => z.union([z.boolean(), keywordShapes]));
const keywordShapes = z
  .object({
    type: z.union([z.enum(JSON_TYPES), z.array(z.enum(JSON_TYPES)).min(1)]).optional(),
    properties: z.record(z.string(), schemaOrBoolean).optional(),
    required: z.array(z.string()).optional(),
    items: z.union([schemaOrBoolean, z.array(schemaOrBoolean)]).optional(),
    additionalProperties: schemaOrBoolean.optional(),
    enum: z.array(z.unknown()).min(1).optional(),
    anyOf: z.array(schemaOrBoolean).min(1).optional(),
    oneOf: z.array(schemaOrBoolean).min(1).optional(),
    allOf: z.array(schemaOrBoolean).min(1).optional(),
    $defs: z.record(z.string(), schemaOrBoolean).optional(),
    definitions: z.record(z.string(), schemaOrBoolean).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    minLength: z.number().int().min(0).optional(),
    maxLength: z.number().int().min(0).optional(),
    minItems: z.number().int().min(0).optional(),
    maxItems: z.number().int().min(0).optional(),
    pattern: z.string().optional(),
    description: z.string().optional(),
    $ref: z.string().optional(),
  })
  .passthrough();

function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return depth;
  let deepest = depth;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child, depth + 1));
  return deepest;
}

/**
 * Checked schemas by their JSON text: an agent's client sends the same tools with every call, and checking one costs
 * ~100 µs (zod compiles it) against ~2 µs for the lookup. Bounded: cleared when full.
 */
const checkedSchemas = new Map<string, string | undefined>();
const MAX_CHECKED_SCHEMAS = 2_000;

/** Why `schema` is not a usable JSON Schema, or undefined when it is. `objectRoot`: it must describe an object. */
export function jsonSchemaProblem(schema: unknown, options: { objectRoot?: boolean } = {}): string | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return 'a JSON Schema is a JSON object';
  const key = `${options.objectRoot ? 'o' : 'a'}${JSON.stringify(schema)}`;
  if (checkedSchemas.has(key)) return checkedSchemas.get(key);
  const problem = checkJsonSchema(schema, options);
  if (checkedSchemas.size >= MAX_CHECKED_SCHEMAS) checkedSchemas.clear();
  checkedSchemas.set(key, problem);
  return problem;
}

function checkJsonSchema(schema: object, options: { objectRoot?: boolean }): string | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return 'a JSON Schema is a JSON object';
  if (depthOf(schema) > MAX_DEPTH) return `nested deeper than ${MAX_DEPTH} levels`;
  const shapes = keywordShapes.safeParse(schema);
  if (!shapes.success) {
    const issue = shapes.error.issues[0]!;
    return `${issue.path.join('.') || 'schema'}: ${issue.message}`;
  }
  const root = schema as JsonSchemaObject;
  if (options.objectRoot && root.type !== undefined && root.type !== 'object') return 'the root must be an object schema (type: "object")';
  try {
    z.fromJSONSchema(root as never);
  } catch (error) {
    return (error as Error).message.slice(0, 200);
  }
  return undefined;
}

/** Whether `value` satisfies `schema` (a schema jsonSchemaProblem accepted). */
export function matchesJsonSchema(schema: JsonSchemaObject, value: unknown): boolean {
  return z.fromJSONSchema(schema as never).safeParse(value).success;
}

function resolveRef(root: JsonSchemaObject, ref: string): JsonSchemaObject | undefined {
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (!match) return undefined;
  return (root[match[1]!] as Record<string, JsonSchemaObject> | undefined)?.[match[2]!];
}

/**
 * A deterministic value valid for `schema`: every required property (all of them when none is marked), the first
 * enum value or const, the first branch of anyOf/oneOf, strings of the asked length, numbers inside their bounds.
 * `hint` fills the first free-text string (the simulator puts the user's words there).
 */
export function exampleForJsonSchema(schema: unknown, hint = 'example'): unknown {
  let hintUsed = false;
  const text = (node: JsonSchemaObject): string => {
    const minLength = typeof node.minLength === 'number' ? node.minLength : 0;
    const maxLength = typeof node.maxLength === 'number' ? node.maxLength : Infinity;
    let value = hintUsed ? 'example' : hint;
    hintUsed = true;
    if (node.format === 'date-time') value = '2026-01-01T00:00:00Z';
    else if (node.format === 'date') value = '2026-01-01';
    else if (node.format === 'email') value = 'someone@example.com';
    else if (node.format === 'uri' || node.format === 'url') value = 'https://example.com/';
    while (value.length < minLength) value += 'x';
    return value.slice(0, maxLength);
  };
  const build = (node: unknown, root: JsonSchemaObject, depth: number): unknown => {
    if (node === true || node === undefined) return 'example';
    if (typeof node !== 'object' || node === null || depth > MAX_DEPTH) return null;
    let current = node as JsonSchemaObject;
    if (typeof current.$ref === 'string') current = resolveRef(root, current.$ref) ?? {};
    if ('const' in current) return current.const;
    if (Array.isArray(current.enum)) return current.enum[0];
    const branches = (current.anyOf ?? current.oneOf) as unknown[] | undefined;
    if (Array.isArray(branches)) {
      const nonNull = branches.find((branch) => (branch as JsonSchemaObject)?.type !== 'null') ?? branches[0];
      return build(nonNull, root, depth + 1);
    }
    if (Array.isArray(current.allOf)) {
      return build(Object.assign({}, ...(current.allOf as JsonSchemaObject[])), root, depth + 1);
    }
    const types = Array.isArray(current.type) ? (current.type as string[]) : [current.type as string | undefined];
    const type = types.find((candidate) => candidate !== 'null') ?? types[0] ?? (current.properties ? 'object' : 'string');
    switch (type) {
      case 'object': {
        const properties = (current.properties ?? {}) as Record<string, unknown>;
        const required = Array.isArray(current.required) ? (current.required as string[]) : Object.keys(properties);
        const value: Record<string, unknown> = {};
        for (const name of required) value[name] = build(properties[name], root, depth + 1);
        return value;
      }
      case 'array': {
        const minItems = typeof current.minItems === 'number' ? current.minItems : 1;
        const items = Array.isArray(current.items) ? current.items : [current.items];
        return Array.from({ length: Math.max(minItems, 1) }, (_, index) => build(items[index % items.length], root, depth + 1)).slice(
          0,
          typeof current.maxItems === 'number' ? current.maxItems : undefined,
        );
      }
      case 'integer':
      case 'number': {
        const minimum = typeof current.minimum === 'number' ? current.minimum : typeof current.exclusiveMinimum === 'number' ? current.exclusiveMinimum + 1 : undefined;
        const maximum = typeof current.maximum === 'number' ? current.maximum : undefined;
        let value = minimum ?? Math.min(1, maximum ?? 1);
        if (type === 'integer') value = Math.ceil(value);
        return value;
      }
      case 'boolean':
        return true;
      case 'null':
        return null;
      default:
        return text(current);
    }
  };
  return build(schema, (schema ?? {}) as JsonSchemaObject, 0);
}
