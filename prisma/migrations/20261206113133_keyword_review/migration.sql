-- CreateEnum
CREATE TYPE "KeywordReview" AS ENUM ('NONE', 'APPLIED', 'HELD');

-- CreateEnum
CREATE TYPE "ReviewDecision" AS ENUM ('REVOCATION', 'NOT_REVOCATION');

-- AlterTable
ALTER TABLE "KeywordEvent" ADD COLUMN     "heldIntent" "KeywordIntent",
ADD COLUMN     "review" "KeywordReview" NOT NULL DEFAULT 'NONE',
ADD COLUMN     "reviewDecision" "ReviewDecision",
ADD COLUMN     "reviewDueAt" TIMESTAMP(3),
ADD COLUMN     "reviewNote" TEXT,
ADD COLUMN     "reviewedAtDeadline" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "reviewedByApiKeyId" UUID;

-- CreateIndex
CREATE INDEX "KeywordEvent_organizationId_reviewDueAt_idx" ON "KeywordEvent"("organizationId", "reviewDueAt");

-- CreateIndex
CREATE INDEX "KeywordEvent_reviewDueAt_idx" ON "KeywordEvent"("reviewDueAt");

-- Backfill: every message flagged before this migration was an opt-out applied at once. Its due
-- date is approximated as ten calendar days after receipt, never later than the business-day rule
-- with the default margin (eight business days span at least ten calendar days). One marked
-- reviewed kept its opt-out: a REVOCATION decision.
UPDATE "KeywordEvent" SET "review" = 'APPLIED', "reviewDueAt" = "receivedAt" + interval '10 days'
WHERE "needsReview";
UPDATE "KeywordEvent" SET "reviewDecision" = 'REVOCATION',
  "reviewNote" = 'marked reviewed before review decisions were recorded'
WHERE "needsReview" AND "reviewedAt" IS NOT NULL;
