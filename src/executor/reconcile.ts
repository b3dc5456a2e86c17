import type { Db } from "../db/client.js";
import type { AdvanceOptions } from "../execution/advance.js";
import { applyBatch } from "../projector/apply.js";
import { deletionEventOf } from "../projector/evolve.js";
import { buildEventRecord } from "../projector/record.js";
import type { SeamCalls } from "../seam/calls.js";
import { RECONCILED_EVENT_PREFIX, type ResourceType } from "../shared/resources.js";
import type { FollowUpHandler } from "./follow-up.js";
import type { CallJob } from "./queue.js";

type ReconcileDeps = {
  db: Db;
  calls: Pick<SeamCalls, "route">;
  advance: AdvanceOptions;
  followUp: FollowUpHandler;
  now: () => number;
};

/**
 * Seam answered 404 for a resource (CONTRACT §8): it is gone. Recorded as its deletion event
 * would be, with the source `reconciled`, so readiness, waiters and the execution follow as for
 * a webhook; then what the execution has left is queued.
 */
export const createReconcile =
  (deps: ReconcileDeps) =>
  async (job: CallJob & { type: ResourceType }, workspaceId: string | null) => {
    const at = new Date(deps.now()).toISOString();
    const eventType = deletionEventOf(job.type);
    const payload = JSON.stringify({
      reconciled: true,
      event_type: eventType,
      resource_type: job.type,
      resource_id: job.id,
      route: deps.calls.route(job.action === "check" ? "get" : "delete", job.type),
      seam_status: 404,
      occurred_at: at,
    });
    const eventId = `${RECONCILED_EVENT_PREFIX}${job.type}-${job.id}`;
    const { followUps } = await applyBatch(
      deps.db,
      [
        {
          kind: "projected",
          record: buildEventRecord(
            {
              eventId,
              eventType,
              workspaceId: workspaceId ?? "",
              occurredAt: at,
              receivedAt: at,
              source: "reconciled",
              payload,
            },
            "projected",
          ),
          change: {
            type: job.type,
            id: job.id,
            workspaceId: workspaceId ?? "",
            state: "deleted",
            eventId,
            eventType,
            occurredAt: Date.parse(at),
          },
        },
      ],
      { advance: deps.advance },
    );
    await deps.followUp(followUps);
  };
