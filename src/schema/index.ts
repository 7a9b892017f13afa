// The executable schema: imports every type file (each registers itself on the builder) and
// builds the schema once.
import { lexicographicSortSchema } from "graphql";
import { builder } from "./builder.ts";
import "./enums.ts";
import "./organization.ts";
import "./api-key.ts";
import "./sender.ts";
import "./campaign.ts";
import "./subscriber.ts";
import "./consent.ts";
import "./consent-event.ts";
import "./keyword-event.ts";
import "./keyword-review.ts";
import "./send-decision.ts";
import "./import-job.ts";

export const schema = lexicographicSortSchema(builder.toSchema());
