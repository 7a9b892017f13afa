-- CreateEnum
CREATE TYPE "Role" AS ENUM ('ADMIN', 'OPERATOR', 'PARTNER', 'VIEWER');

-- CreateEnum
CREATE TYPE "SenderKind" AS ENUM ('SHORT_CODE', 'LONG_CODE', 'TOLL_FREE');

-- CreateEnum
CREATE TYPE "CampaignPurpose" AS ENUM ('MARKETING', 'INFORMATIONAL', 'TRANSACTIONAL');

-- CreateEnum
CREATE TYPE "CampaignStatus" AS ENUM ('DRAFT', 'ACTIVE', 'PAUSED', 'ARCHIVED');

-- CreateEnum
CREATE TYPE "ConsentStatus" AS ENUM ('PENDING', 'OPTED_IN', 'OPTED_OUT', 'EXPIRED');

-- CreateEnum
CREATE TYPE "ConsentMethod" AS ENUM ('WEB_FORM', 'CHECKBOX', 'KEYWORD', 'API', 'IMPORT', 'ADMIN');

-- CreateEnum
CREATE TYPE "KeywordIntent" AS ENUM ('OPT_OUT', 'OPT_OUT_ALL', 'OPT_IN', 'CONFIRM', 'HELP', 'UNKNOWN');

-- CreateTable
CREATE TABLE "Organization" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "twilioAuthToken" TEXT,
    "ledgerSequence" INTEGER NOT NULL DEFAULT 0,
    "ledgerHeadHash" TEXT NOT NULL DEFAULT '',
    "keywordSequence" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Organization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "secretHash" TEXT NOT NULL,
    "secretPrefix" TEXT NOT NULL,
    "isPlatform" BOOLEAN NOT NULL DEFAULT false,
    "campaignIds" UUID[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Sender" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "address" TEXT NOT NULL,
    "kind" "SenderKind" NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Sender_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Campaign" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "senderId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "purpose" "CampaignPurpose" NOT NULL,
    "status" "CampaignStatus" NOT NULL DEFAULT 'DRAFT',
    "keywords" TEXT[],
    "doubleOptIn" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Campaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DisclosureVersion" (
    "id" UUID NOT NULL,
    "campaignId" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "programName" TEXT NOT NULL,
    "messageFrequency" TEXT NOT NULL,
    "termsUrl" TEXT,
    "privacyUrl" TEXT,
    "helpText" TEXT NOT NULL,
    "optInConfirmation" TEXT NOT NULL,
    "optOutConfirmation" TEXT NOT NULL,
    "consentLanguage" TEXT NOT NULL,
    "consentLanguageHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DisclosureVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Subscriber" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "phone" TEXT NOT NULL,
    "timezone" TEXT,
    "locale" TEXT,
    "attributes" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Subscriber_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Consent" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "subscriberId" UUID NOT NULL,
    "campaignId" UUID NOT NULL,
    "status" "ConsentStatus" NOT NULL,
    "method" "ConsentMethod" NOT NULL,
    "disclosureVersionId" UUID,
    "lastSequence" INTEGER NOT NULL,
    "expiresAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Consent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ConsentEvent" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "sequence" INTEGER NOT NULL,
    "subscriberId" UUID NOT NULL,
    "campaignId" UUID,
    "consentId" UUID,
    "fromStatus" "ConsentStatus",
    "toStatus" "ConsentStatus" NOT NULL,
    "method" "ConsentMethod" NOT NULL,
    "occurredAt" TIMESTAMP(3) NOT NULL,
    "recordedAt" TIMESTAMP(3) NOT NULL,
    "evidence" JSONB,
    "disclosureVersionId" UUID,
    "apiKeyId" UUID,
    "keywordEventId" UUID,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "ConsentEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "KeywordEvent" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "sequence" INTEGER NOT NULL,
    "senderId" UUID NOT NULL,
    "from" TEXT NOT NULL,
    "to" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "providerMessageId" TEXT,
    "keyword" TEXT,
    "intent" "KeywordIntent" NOT NULL,
    "needsReview" BOOLEAN NOT NULL DEFAULT false,
    "reviewedAt" TIMESTAMP(3),
    "campaignIds" UUID[],
    "reply" TEXT,
    "repliedAt" TIMESTAMP(3),
    "receivedAt" TIMESTAMP(3) NOT NULL,
    "recordedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "KeywordEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "IdempotencyRecord" (
    "organizationId" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "result" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IdempotencyRecord_pkey" PRIMARY KEY ("organizationId","key")
);

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_secretHash_key" ON "ApiKey"("secretHash");

-- CreateIndex
CREATE INDEX "ApiKey_organizationId_createdAt_idx" ON "ApiKey"("organizationId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Sender_address_key" ON "Sender"("address");

-- CreateIndex
CREATE INDEX "Sender_organizationId_createdAt_idx" ON "Sender"("organizationId", "createdAt");

-- CreateIndex
CREATE INDEX "Campaign_organizationId_createdAt_idx" ON "Campaign"("organizationId", "createdAt");

-- CreateIndex
CREATE INDEX "Campaign_senderId_idx" ON "Campaign"("senderId");

-- CreateIndex
CREATE UNIQUE INDEX "Campaign_organizationId_name_key" ON "Campaign"("organizationId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "DisclosureVersion_campaignId_version_key" ON "DisclosureVersion"("campaignId", "version");

-- CreateIndex
CREATE INDEX "Subscriber_organizationId_createdAt_idx" ON "Subscriber"("organizationId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Subscriber_organizationId_phone_key" ON "Subscriber"("organizationId", "phone");

-- CreateIndex
CREATE INDEX "Consent_campaignId_status_idx" ON "Consent"("campaignId", "status");

-- CreateIndex
CREATE INDEX "Consent_organizationId_status_updatedAt_idx" ON "Consent"("organizationId", "status", "updatedAt");

-- CreateIndex
CREATE INDEX "Consent_status_expiresAt_idx" ON "Consent"("status", "expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "Consent_subscriberId_campaignId_key" ON "Consent"("subscriberId", "campaignId");

-- CreateIndex
CREATE INDEX "ConsentEvent_organizationId_campaignId_sequence_idx" ON "ConsentEvent"("organizationId", "campaignId", "sequence");

-- CreateIndex
CREATE INDEX "ConsentEvent_subscriberId_sequence_idx" ON "ConsentEvent"("subscriberId", "sequence");

-- CreateIndex
CREATE INDEX "ConsentEvent_keywordEventId_idx" ON "ConsentEvent"("keywordEventId");

-- CreateIndex
CREATE UNIQUE INDEX "ConsentEvent_organizationId_sequence_key" ON "ConsentEvent"("organizationId", "sequence");

-- CreateIndex
CREATE INDEX "KeywordEvent_organizationId_intent_sequence_idx" ON "KeywordEvent"("organizationId", "intent", "sequence");

-- CreateIndex
CREATE UNIQUE INDEX "KeywordEvent_organizationId_sequence_key" ON "KeywordEvent"("organizationId", "sequence");

-- CreateIndex
CREATE UNIQUE INDEX "KeywordEvent_organizationId_providerMessageId_key" ON "KeywordEvent"("organizationId", "providerMessageId");

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Sender" ADD CONSTRAINT "Sender_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Campaign" ADD CONSTRAINT "Campaign_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Campaign" ADD CONSTRAINT "Campaign_senderId_fkey" FOREIGN KEY ("senderId") REFERENCES "Sender"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DisclosureVersion" ADD CONSTRAINT "DisclosureVersion_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Subscriber" ADD CONSTRAINT "Subscriber_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Consent" ADD CONSTRAINT "Consent_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Consent" ADD CONSTRAINT "Consent_subscriberId_fkey" FOREIGN KEY ("subscriberId") REFERENCES "Subscriber"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Consent" ADD CONSTRAINT "Consent_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Consent" ADD CONSTRAINT "Consent_disclosureVersionId_fkey" FOREIGN KEY ("disclosureVersionId") REFERENCES "DisclosureVersion"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConsentEvent" ADD CONSTRAINT "ConsentEvent_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConsentEvent" ADD CONSTRAINT "ConsentEvent_subscriberId_fkey" FOREIGN KEY ("subscriberId") REFERENCES "Subscriber"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConsentEvent" ADD CONSTRAINT "ConsentEvent_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConsentEvent" ADD CONSTRAINT "ConsentEvent_consentId_fkey" FOREIGN KEY ("consentId") REFERENCES "Consent"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConsentEvent" ADD CONSTRAINT "ConsentEvent_disclosureVersionId_fkey" FOREIGN KEY ("disclosureVersionId") REFERENCES "DisclosureVersion"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConsentEvent" ADD CONSTRAINT "ConsentEvent_apiKeyId_fkey" FOREIGN KEY ("apiKeyId") REFERENCES "ApiKey"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConsentEvent" ADD CONSTRAINT "ConsentEvent_keywordEventId_fkey" FOREIGN KEY ("keywordEventId") REFERENCES "KeywordEvent"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "KeywordEvent" ADD CONSTRAINT "KeywordEvent_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "KeywordEvent" ADD CONSTRAINT "KeywordEvent_senderId_fkey" FOREIGN KEY ("senderId") REFERENCES "Sender"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "IdempotencyRecord" ADD CONSTRAINT "IdempotencyRecord_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
