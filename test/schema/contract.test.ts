// The public contract: the printed schema is committed and current, and it carries every name of
// the shared API contract (schema/contract.graphql) with compatible types. Names that later issues
// add are listed as pending, and the test insists they are still missing, so the list shrinks.
import { readFileSync } from "node:fs";
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  parse,
  printSchema,
  type GraphQLType,
  type TypeNode,
} from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.ts";

const contract = parse(
  readFileSync(new URL("../../schema/contract.graphql", import.meta.url), "utf8"),
);

const PENDING = new Set<string>([]);

function shape(node: TypeNode): string {
  if (node.kind === Kind.NON_NULL_TYPE) return `${shape(node.type)}!`;
  if (node.kind === Kind.LIST_TYPE) return `[${shape(node.type)}]`;
  return node.name.value;
}

function ours(type: GraphQLType): string {
  if (isNonNullType(type)) return `${ours(type.ofType)}!`;
  if (isListType(type)) return `[${ours(type.ofType)}]`;
  return getNamedType(type).name;
}

/** Output positions may be stricter (non-null where the contract allows null), never looser. */
function compatibleOutput(contractShape: string, ourShape: string): boolean {
  return contractShape === ourShape || `${contractShape}!` === ourShape;
}

/** Input positions may be looser (optional where the contract requires), never stricter. */
function compatibleInput(contractShape: string, ourShape: string): boolean {
  return contractShape === ourShape || contractShape === `${ourShape}!`;
}

function problems(): string[] {
  const found: string[] = [];
  for (const definition of contract.definitions) {
    if (!("name" in definition) || !definition.name) continue;
    const name = definition.name.value;
    if (PENDING.has(name)) {
      if (schema.getType(name)) found.push(`${name} exists now: remove it from PENDING`);
      continue;
    }
    const type = schema.getType(name);
    if (!type) {
      found.push(`missing type ${name}`);
      continue;
    }
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION) {
      if (!isEnumType(type)) found.push(`${name} is not an enum`);
      else
        for (const value of definition.values ?? [])
          if (!type.getValue(value.name.value))
            found.push(`missing enum value ${name}.${value.name.value}`);
    }
    if (definition.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
      if (!isInputObjectType(type)) {
        found.push(`${name} is not an input type`);
        continue;
      }
      for (const field of definition.fields ?? []) {
        const ourField = type.getFields()[field.name.value];
        if (!ourField) found.push(`missing input field ${name}.${field.name.value}`);
        else if (!compatibleInput(shape(field.type), ours(ourField.type)))
          found.push(
            `${name}.${field.name.value}: ${ours(ourField.type)} is not compatible with ${shape(field.type)}`,
          );
      }
    }
    if (
      definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
      definition.kind === Kind.INTERFACE_TYPE_DEFINITION
    ) {
      if (!isObjectType(type) && !isInterfaceType(type)) {
        found.push(`${name} is not an object type`);
        continue;
      }
      for (const iface of definition.interfaces ?? [])
        if (!type.getInterfaces().some((i) => i.name === iface.name.value))
          found.push(`${name} does not implement ${iface.name.value}`);
      for (const field of definition.fields ?? []) {
        const fieldName = `${name}.${field.name.value}`;
        const ourField = type.getFields()[field.name.value];
        if (PENDING.has(fieldName)) {
          if (ourField) found.push(`${fieldName} exists now: remove it from PENDING`);
          continue;
        }
        if (!ourField) {
          found.push(`missing field ${fieldName}`);
          continue;
        }
        if (!compatibleOutput(shape(field.type), ours(ourField.type)))
          found.push(
            `${fieldName}: ${ours(ourField.type)} is not compatible with ${shape(field.type)}`,
          );
        for (const arg of field.arguments ?? []) {
          const ourArg = ourField.args.find((a) => a.name === arg.name.value);
          if (!ourArg) found.push(`missing argument ${fieldName}(${arg.name.value})`);
          else if (!compatibleInput(shape(arg.type), ours(ourArg.type)))
            found.push(
              `${fieldName}(${arg.name.value}): ${ours(ourArg.type)} is not compatible with ${shape(arg.type)}`,
            );
        }
      }
    }
  }
  return found;
}

describe("public contract", () => {
  it("schema/schema.graphql is the printed schema (run `npm run schema:print`)", () => {
    const committed = readFileSync(new URL("../../schema/schema.graphql", import.meta.url), "utf8");
    expect(committed).toBe(`${printSchema(schema)}\n`);
  });

  it("carries every name of the shared API contract with compatible types", () => {
    expect(problems()).toEqual([]);
  });
});
