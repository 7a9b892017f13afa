import { describe, expect, it } from "vitest";
import { graphql } from "../generated/gql.ts";
import { ok } from "../support/graphql.ts";
import { newOrganization } from "../support/graphql.ts";
import { createCampaign } from "../support/fixtures.ts";

const Viewer = graphql(`
  query SmokeViewer {
    viewer {
      role
      organization {
        name
      }
    }
  }
`);

describe("smoke", () => {
  it("serves the viewer of a new organization", async () => {
    const org = await newOrganization("Smoke Co");
    const data = await ok(org.adminKey, Viewer);
    expect(data.viewer).toEqual({ role: "ADMIN", organization: { name: "Smoke Co" } });
    const campaign = await createCampaign(org.adminKey);
    expect(campaign.id).toBeTruthy();
  });
});
