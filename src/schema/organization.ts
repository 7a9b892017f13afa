// Organization and Viewer: who the caller is, and the platform key's onboarding of organizations.
import { createOrganization, updateOrganization } from "../services/organizations.ts";
import { sees, visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import { RoleEnum } from "./enums.ts";
import { asRowId } from "./ids.ts";

export const Organization = builder.prismaNode("Organization", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id: asRowId(id), AND: [visible.organization(ctx.actor)] }),
  // Besides its own, the platform key sees the organization it has just created.
  authScopes: (row, ctx) =>
    sees.organization(ctx.actor, row) ? true : { $granted: "createdOrganization" },
  fields: (t) => ({
    name: t.exposeString("name"),
    hasTwilioAuthToken: t.boolean({
      description:
        "Whether webhooks for this organization's senders are checked with its own Twilio auth token.",
      select: { twilioAuthToken: true },
      resolve: (organization) => organization.twilioAuthToken !== null,
    }),
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
    organization: t.field({ type: Organization, grantScopes: ["createdOrganization"] }),
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

const UpdateOrganizationInput = builder.inputType("UpdateOrganizationInput", {
  fields: (t) => ({
    name: t.string(),
    twilioAuthToken: t.string({
      description:
        "Checks the signatures of Twilio webhooks for this organization's senders. Empty string removes it.",
    }),
  }),
});

const UpdateOrganizationPayload = builder.simpleObject("UpdateOrganizationPayload", {
  fields: (t) => ({ organization: t.field({ type: Organization }) }),
});

builder.mutationField("updateOrganization", (t) =>
  t.field({
    type: UpdateOrganizationPayload,
    authScopes: { admin: true },
    args: { input: t.arg({ type: UpdateOrganizationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      organization: await updateOrganization(ctx.runtime.prisma, ctx.actor, input),
    }),
  }),
);
