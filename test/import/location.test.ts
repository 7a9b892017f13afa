// Import columns for where a subscriber is: timeZone (or timezone, time_zone), state and locale.
// A row's values are checked like updateSubscriber's (a bad one fails the row, naming its column,
// and the row writes nothing), set with the batch's consents, kept when a column is empty, set
// again on a rerun whose records are already in, and read by canSend (an uploaded file over
// GraphQL).
import { describe, expect, it } from "vitest";
import { graphql } from "../generated/gql.ts";
import { CanSend } from "../consent/ops.ts";
import { testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization, ok } from "../support/graphql.ts";
import { collect, ImportJobProgress, importCsv, rowId, upload } from "./support.ts";

const Location = graphql(`
  query ImportLocation($phone: String!) {
    subscriber(phone: $phone) {
      timezone
      state
      locale
    }
  }
`);

const HEADER = "phone,status,occurred_at,timeZone,state,locale";
const A = "+12125550170";
const B = "+12125550171";
const C = "+12125550172";

async function subscriberRow(organizationId: string, phone: string) {
  const app = await testApp();
  return app.db.prisma.subscriber.findFirst({
    where: { organizationId, phone },
    select: { timezone: true, state: true, locale: true },
  });
}

describe("location columns", () => {
  it("sets zone, state and locale in canonical form; a bad value fails its row alone", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const csv = [
      HEADER,
      `${A},opted_in,2025-03-01T12:00:00Z,america/chicago,il,ES-mx`,
      `${B},opted_in,2025-03-01T12:00:00Z,Mars/Phobos,CT,en`,
      `${C},opted_in,2025-03-01T12:00:00Z,,Connecticut,`,
    ].join("\n");
    const { job, errors } = await importCsv(org.rowId, csv, { campaignId: rowId(campaign.id) });
    expect(job).toMatchObject({ status: "SUCCEEDED", imported: 1, failed: 2 });
    expect(errors).toEqual([
      {
        row: 3,
        reason: 'timezone: "Mars/Phobos" is not an IANA time zone (such as America/New_York)',
      },
      {
        row: 4,
        reason: 'state: "Connecticut" is not a two-letter US state code (such as CT, FL or DC)',
      },
    ]);
    expect(await subscriberRow(org.rowId, A)).toEqual({
      timezone: "America/Chicago",
      state: "IL",
      locale: "es-MX",
    });
    // a failed row writes nothing: no subscriber, no consent
    expect(await subscriberRow(org.rowId, B)).toBeNull();
    expect(await subscriberRow(org.rowId, C)).toBeNull();
  });

  it("keeps stored values for empty columns, merges a number's rows in file order, and applies on a rerun", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const campaignId = rowId(campaign.id);
    const first = [
      HEADER,
      `${A},opted_in,2025-03-01T12:00:00Z,America/New_York,NY,en-US`,
      `${A},opted_out,2025-03-02T12:00:00Z,,CT,`,
    ].join("\n");
    expect((await importCsv(org.rowId, first, { campaignId })).job.imported).toBe(2);
    expect(await subscriberRow(org.rowId, A)).toEqual({
      timezone: "America/New_York",
      state: "CT",
      locale: "en-US",
    });

    // the same records again, now with a locale and the other spelling of the zone column
    const again = [
      "phone,status,occurred_at,time_zone,state,locale",
      `${A},opted_in,2025-03-01T12:00:00Z,,,fr`,
      `${A},opted_out,2025-03-02T12:00:00Z,America/Los_Angeles,,`,
    ].join("\n");
    const rerun = await importCsv(org.rowId, again, { campaignId });
    expect(rerun.job).toMatchObject({ imported: 0, skipped: 2, failed: 0 });
    expect(await subscriberRow(org.rowId, A)).toEqual({
      timezone: "America/Los_Angeles",
      state: "CT",
      locale: "fr",
    });
  });

  it("refuses a header naming the zone column twice", async () => {
    const org = await newOrganization();
    const { job } = await importCsv(
      org.rowId,
      `phone,status,occurred_at,timezone,time_zone\n${A},opted_in,2025-03-01T12:00:00Z,UTC,UTC`,
    );
    expect(job).toMatchObject({
      status: "FAILED",
      message: 'header: column "timezone" appears twice',
    });
  });

  it("sets the state of an uploaded file, which canSend then follows", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey, { purpose: "MARKETING" });
    const csv = [HEADER, `${A},opted_in,2025-03-01T12:00:00Z,,CT,`].join("\n");
    const started = await upload(org.adminKey, csv, { campaignId: campaign.id });
    expect(started.errors).toBeUndefined();
    const progress = await collect(org.adminKey, ImportJobProgress, {
      id: started.data!.importConsents.importJob.id,
    });
    expect(progress.at(-1)?.data?.importJobProgress).toMatchObject({
      status: "SUCCEEDED",
      imported: 1,
    });
    expect((await ok(org.adminKey, Location, { phone: A })).subscriber).toEqual({
      timezone: null,
      state: "CT",
      locale: null,
    });
    // Friday 08:30 in New York: allowed for a New York number, not for a Connecticut resident
    const { canSend } = await ok(org.adminKey, CanSend, {
      phone: A,
      campaignId: campaign.id,
      at: "2026-11-27T13:30:00.000Z",
    });
    expect(canSend).toMatchObject({
      allowed: false,
      reason: "QUIET_HOURS",
      nextAllowedAt: "2026-11-27T14:00:00.000Z",
    });
  });
});
