-- AlterTable
ALTER TABLE "Subscriber" ADD COLUMN     "state" TEXT;
