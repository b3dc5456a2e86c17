CREATE TABLE "events" (
	"event_id" text PRIMARY KEY NOT NULL,
	"event_type" text NOT NULL,
	"workspace_id" text NOT NULL,
	"occurred_at" timestamp with time zone,
	"received_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source" text NOT NULL,
	"payload" text NOT NULL,
	"outcome" text NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "pending_deletions" (
	"user_identity_id" uuid PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ready_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "resources" (
	"resource_type" text NOT NULL,
	"resource_id" uuid NOT NULL,
	"workspace_id" text,
	"user_identity_id" uuid,
	"linked_at" timestamp with time zone,
	"state" text NOT NULL,
	"event_id" text,
	"event_type" text,
	"event_occurred_at" timestamp(3) with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "resources_resource_type_resource_id_pk" PRIMARY KEY("resource_type","resource_id")
);
--> statement-breakpoint
CREATE INDEX "events_occurred_at_idx" ON "events" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "events_poison_idx" ON "events" USING btree ("recorded_at") WHERE "events"."outcome" = 'poison';--> statement-breakpoint
CREATE INDEX "pending_deletions_pending_idx" ON "pending_deletions" USING btree ("requested_at") WHERE "pending_deletions"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "resources_blockers_idx" ON "resources" USING btree ("user_identity_id") WHERE "resources"."user_identity_id" is not null and "resources"."state" <> 'deleted';