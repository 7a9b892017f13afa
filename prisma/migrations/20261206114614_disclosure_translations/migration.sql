-- AlterTable
ALTER TABLE "DisclosureVersion" ADD COLUMN     "translations" JSONB NOT NULL DEFAULT '[]';
