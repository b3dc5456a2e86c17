import type { Db } from "../db/client.js";
import {
  type ExecutionStep,
  executionSteps,
  RECONCILED_EVENT_PREFIX,
  strategySteps,
} from "../shared/resources.js";
import { type HistoryRow, selectDeletionHistory } from "../sql/select-deletion-history.js";

type Entry = {
  at: string;
  what:
    | "requested"
    | "resource_deleted"
    | "ready"
    | "execution_started"
    | "step"
    | "execution_completed"
    | "execution_failed";
  text: string;
  type?: string;
  id?: string;
};

type StepState = "pending" | "running" | "done" | "failed";

export type DeletionHistory = {
  user_identity_id: string;
  entries: Entry[];
  steps: { step: ExecutionStep; state: StepState; calls: HistoryRow["calls"] }[];
};

const stepsOf = (row: HistoryRow): DeletionHistory["steps"] => {
  if (row.strategy === null) return [];
  const order = strategySteps[row.strategy];
  const current = row.step === null ? order.length : order.indexOf(row.step);
  return order.map((step, index) => ({
    step,
    state:
      row.execution_status === "completed" || index < current
        ? "done"
        : index > current
          ? "pending"
          : row.execution_status === "failed"
            ? "failed"
            : "running",
    calls: row.calls.filter((call) => call.step === step),
  }));
};

/** Pure: the dated entries of a deletion's history, oldest first. */
const entriesOf = (row: HistoryRow): Entry[] => {
  const entries: Entry[] = [
    { at: row.requested_at, what: "requested", text: "deletion requested" },
  ];
  for (const resource of row.deleted) {
    const reconciled = resource.event_id?.startsWith(RECONCILED_EVENT_PREFIX) === true;
    entries.push({
      at: resource.at,
      what: "resource_deleted",
      type: resource.type,
      id: resource.id,
      text: reconciled
        ? `${resource.type} ${resource.id} gone: Seam answered 404 (reconciled)`
        : `${resource.event_type ?? "deletion"}: ${resource.type} ${resource.id}`,
    });
  }
  if (row.ready_at !== null)
    entries.push({ at: row.ready_at, what: "ready", text: "nothing blocks: ready" });
  if (row.started_at !== null) {
    entries.push({
      at: row.started_at,
      what: "execution_started",
      text: `execution started (${row.strategy})`,
    });
    for (const step of executionSteps) {
      const times = row.calls
        .filter((call) => call.step === step && call.called_at !== null)
        .map((call) => call.called_at as string)
        .sort();
      if (times[0] !== undefined) {
        entries.push({ at: times[0], what: "step", text: `step ${step}: Seam called` });
      }
    }
  }
  if (row.finished_at !== null) {
    entries.push(
      row.execution_status === "failed"
        ? {
            at: row.finished_at,
            what: "execution_failed",
            text: `execution failed in ${row.step}: ${row.error_code}: ${row.error_message ?? ""}`,
          }
        : {
            at: row.finished_at,
            what: "execution_completed",
            text: "the identity is deleted in Seam",
          },
    );
  }
  return entries.sort((a, b) => a.at.localeCompare(b.at));
};

/** `GET …/deletion/history`; undefined when no deletion was requested. */
export const readDeletionHistory = async (
  db: Db,
  identityId: string,
): Promise<DeletionHistory | undefined> => {
  const [row] = await selectDeletionHistory(db, identityId);
  if (row === undefined) return undefined;
  return { user_identity_id: identityId, entries: entriesOf(row), steps: stepsOf(row) };
};
