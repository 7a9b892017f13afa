-- AlterTable
ALTER TABLE "Consent" ADD COLUMN     "hadConsented" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "KeywordEvent" ADD COLUMN     "apiKeyId" UUID;

-- AddForeignKey
ALTER TABLE "KeywordEvent" ADD CONSTRAINT "KeywordEvent_apiKeyId_fkey" FOREIGN KEY ("apiKeyId") REFERENCES "ApiKey"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- Consents written before this migration: had the subscriber ever been OPTED_IN for the campaign?
UPDATE "Consent" c SET "hadConsented" = true
WHERE EXISTS (
  SELECT 1 FROM "ConsentEvent" e
  WHERE e."subscriberId" = c."subscriberId" AND e."campaignId" = c."campaignId"
    AND e."toStatus" = 'OPTED_IN'
);
