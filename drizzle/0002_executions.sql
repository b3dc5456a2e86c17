CREATE TABLE "execution_calls" (
	"user_identity_id" uuid NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" uuid NOT NULL,
	"step" text NOT NULL,
	"state" text NOT NULL,
	"round" integer DEFAULT 0 NOT NULL,
	"delete_calls" integer DEFAULT 0 NOT NULL,
	"get_calls" integer DEFAULT 0 NOT NULL,
	"called_at" timestamp with time zone,
	"answered_at" timestamp with time zone,
	"answer" text,
	"deadline_at" timestamp with time zone,
	"done_at" timestamp with time zone,
	CONSTRAINT "execution_calls_user_identity_id_resource_type_resource_id_pk" PRIMARY KEY("user_identity_id","resource_type","resource_id")
);
--> statement-breakpoint
CREATE TABLE "executions" (
	"user_identity_id" uuid PRIMARY KEY NOT NULL,
	"execution_id" uuid NOT NULL,
	"strategy" text NOT NULL,
	"status" text NOT NULL,
	"step" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"step_started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"error_code" text,
	"error_message" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "execution_calls" ADD CONSTRAINT "execution_calls_user_identity_id_executions_user_identity_id_fk" FOREIGN KEY ("user_identity_id") REFERENCES "public"."executions"("user_identity_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "executions" ADD CONSTRAINT "executions_user_identity_id_pending_deletions_user_identity_id_fk" FOREIGN KEY ("user_identity_id") REFERENCES "public"."pending_deletions"("user_identity_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "executions_running_idx" ON "executions" USING btree ("started_at") WHERE "executions"."status" = 'running';