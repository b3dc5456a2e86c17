DROP INDEX "pending_deletions_pending_idx";--> statement-breakpoint
CREATE INDEX "pending_deletions_status_list_idx" ON "pending_deletions" USING btree ("status","requested_at","user_identity_id");--> statement-breakpoint
CREATE INDEX "pending_deletions_list_idx" ON "pending_deletions" USING btree ("requested_at","user_identity_id");