-- AlterTable
ALTER TABLE "Organization" ADD COLUMN     "campaignRevision" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "subscriberRevision" INTEGER NOT NULL DEFAULT 0;

-- The send-decision cache (src/services/send-cache.ts) holds campaigns and subscribers in memory.
-- Changing them writes no ledger event, so each change moves a revision of its organization in the
-- same transaction, whichever code path (or person) made it; a cache that reads a revision it has
-- not seen reloads what it holds.

-- CreateFunction
CREATE FUNCTION "organization_campaign_revision"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "Organization" SET "campaignRevision" = "campaignRevision" + 1
  WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD."organizationId" ELSE NEW."organizationId" END;
  RETURN NULL;
END;
$$;

-- CreateFunction
CREATE FUNCTION "organization_subscriber_revision"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "Organization" SET "subscriberRevision" = "subscriberRevision" + 1
  WHERE id = OLD."organizationId";
  RETURN NULL;
END;
$$;

-- CreateTrigger
CREATE TRIGGER "Campaign_revision_insert_delete"
AFTER INSERT OR DELETE ON "Campaign"
FOR EACH ROW EXECUTE FUNCTION "organization_campaign_revision"();

-- CreateTrigger
CREATE TRIGGER "Campaign_revision_update"
AFTER UPDATE ON "Campaign"
FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
EXECUTE FUNCTION "organization_campaign_revision"();

-- CreateTrigger (a new subscriber is learned with its first consent, through the ledger)
CREATE TRIGGER "Subscriber_revision_update"
AFTER UPDATE ON "Subscriber"
FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
EXECUTE FUNCTION "organization_subscriber_revision"();

-- CreateTrigger
CREATE TRIGGER "Subscriber_revision_delete"
AFTER DELETE ON "Subscriber"
FOR EACH ROW EXECUTE FUNCTION "organization_subscriber_revision"();
