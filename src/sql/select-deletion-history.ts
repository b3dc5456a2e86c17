import { sql } from "drizzle-orm";
import { type Db, isoUtc, runPrepared } from "../db/client.js";
import type {
  CallTarget,
  ExecutionStatus,
  ExecutionStep,
  ExecutionStrategy,
  ResourceType,
} from "../shared/resources.js";

export type HistoryRow = {
  requested_at: string;
  ready_at: string | null;
  /** The linked resources reported deleted: by which event, projected when. */
  deleted: {
    type: ResourceType;
    id: string;
    event_type: string | null;
    event_id: string | null;
    at: string;
  }[];
  strategy: ExecutionStrategy | null;
  execution_status: ExecutionStatus | null;
  step: ExecutionStep | null;
  started_at: string | null;
  finished_at: string | null;
  error_code: string | null;
  error_message: string | null;
  calls: {
    type: CallTarget;
    id: string;
    step: ExecutionStep;
    state: string;
    delete_calls: number;
    get_calls: number;
    answer: string | null;
    called_at: string | null;
    answered_at: string | null;
    done_at: string | null;
  }[];
};

/**
 * What happened to one deletion request, for the console's detail view: the request, its
 * linked resources' deletions, its execution and every call of it. No row without a request.
 */
export const selectDeletionHistory = (db: Db, identityId: string) =>
  runPrepared<HistoryRow>(
    db,
    sql`
    select ${isoUtc("d.requested_at")} as requested_at, ${isoUtc("d.ready_at")} as ready_at,
           coalesce((select json_agg(json_build_object(
                       'type', r.resource_type, 'id', r.resource_id, 'event_type', r.event_type,
                       'event_id', r.event_id, 'at', ${isoUtc("r.updated_at")})
                       order by r.updated_at)
                     from resources r
                     where r.user_identity_id = d.user_identity_id and r.state = 'deleted'),
                    '[]'::json) as deleted,
           e.strategy, e.status as execution_status, e.step,
           ${isoUtc("e.started_at")} as started_at, ${isoUtc("e.finished_at")} as finished_at,
           e.error_code, e.error_message,
           coalesce((select json_agg(json_build_object(
                       'type', c.resource_type, 'id', c.resource_id, 'step', c.step, 'state', c.state,
                       'delete_calls', c.delete_calls, 'get_calls', c.get_calls, 'answer', c.answer,
                       'called_at', ${isoUtc("c.called_at")},
                       'answered_at', ${isoUtc("c.answered_at")},
                       'done_at', ${isoUtc("c.done_at")})
                       order by c.called_at nulls last, c.resource_type, c.resource_id)
                     from execution_calls c where c.user_identity_id = d.user_identity_id),
                    '[]'::json) as calls
    from pending_deletions d
    left join executions e on e.user_identity_id = d.user_identity_id
    where d.user_identity_id = ${identityId}::uuid`,
  );
