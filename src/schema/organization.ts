// Organization and Viewer: who the caller is, and the platform key's onboarding of organizations.
import { createOrganization } from "../services/organizations.ts";
import { visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import { RoleEnum } from "./enums.ts";
import { asRowId } from "./ids.ts";

export const Organization = builder.prismaNode("Organization", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id: asRowId(id), AND: [visible.organization(ctx.actor)] }),
  fields: (t) => ({
    name: t.exposeString("name"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const Viewer = builder.simpleObject("Viewer", {
  fields: (t) => ({ role: t.field({ type: RoleEnum }) }),
});

builder.objectField(Viewer, "organization", (t) =>
  t.prismaField({
    type: "Organization",
    resolve: (query, _viewer, _args, ctx) =>
      ctx.runtime.prisma.organization.findUniqueOrThrow({
        ...query,
        where: { id: ctx.actor.organizationId },
      }),
  }),
);

builder.queryField("viewer", (t) =>
  t.field({ type: Viewer, resolve: (_root, _args, ctx) => ({ role: ctx.actor.role }) }),
);

const CreateOrganizationInput = builder.inputType("CreateOrganizationInput", {
  fields: (t) => ({ name: t.string({ required: true }) }),
});

const CreateOrganizationPayload = builder.simpleObject("CreateOrganizationPayload", {
  fields: (t) => ({
    organization: t.field({ type: Organization }),
    secret: t.string({ description: "The new organization's first ADMIN key. Shown once." }),
  }),
});

builder.mutationField("createOrganization", (t) =>
  t.field({
    type: CreateOrganizationPayload,
    description: "Onboards an organization. Platform key only.",
    authScopes: { platform: true },
    args: { input: t.arg({ type: CreateOrganizationInput, required: true }) },
    resolve: (_root, { input }, ctx) => createOrganization(ctx.runtime.prisma, ctx.actor, input),
  }),
);
