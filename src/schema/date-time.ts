// The DateTime scalar: written as graphql-scalars writes it, read by the one date-time rule of
// src/domain/date-time.ts, so an impossible or absurd date is BAD_USER_INPUT wherever it is given.
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";
import { DateTimeResolver } from "graphql-scalars";
import {
  checkDateTimeRange,
  DATE_TIME_EXAMPLE,
  readDateTime,
  type DateTimeReading,
} from "../domain/date-time.ts";

function accepted(reading: DateTimeReading): Date {
  if (!reading.ok) throw new GraphQLError(`DateTime: ${reading.problem}`);
  return reading.date;
}

function parseDateTime(value: unknown): Date {
  if (typeof value === "string") return accepted(readDateTime(value));
  if (value instanceof Date) return accepted(checkDateTimeRange(value));
  throw new GraphQLError(`DateTime: give a string such as ${DATE_TIME_EXAMPLE}`);
}

export const DateTimeScalar = new GraphQLScalarType<Date, unknown>({
  ...DateTimeResolver.toConfig(),
  parseValue: parseDateTime,
  parseLiteral: (ast: ValueNode) =>
    parseDateTime(ast.kind === Kind.STRING ? ast.value : Symbol("not a string")),
});
