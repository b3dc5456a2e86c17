ALTER TABLE "events" ADD COLUMN "payload_sha256" text;--> statement-breakpoint
CREATE INDEX "events_received_at_idx" ON "events" USING btree ("received_at");--> statement-breakpoint
-- Rows recorded before the column existed: the hash of the body they hold, so that a later
-- redelivery of one of them with another body is told apart too.
UPDATE "events" SET "payload_sha256" = encode(sha256(convert_to("payload", 'UTF8')), 'hex') WHERE "payload_sha256" IS NULL;
