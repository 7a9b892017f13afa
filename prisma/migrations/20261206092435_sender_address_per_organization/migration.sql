-- DropIndex
DROP INDEX "Sender_address_key";

-- CreateIndex
CREATE INDEX "Sender_address_idx" ON "Sender"("address");

-- CreateIndex
CREATE UNIQUE INDEX "Sender_organizationId_address_key" ON "Sender"("organizationId", "address");
