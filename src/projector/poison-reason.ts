/**
 * Starts the failure reason of a poison event's job, so the dead-letter list can tell them.
 * A module of its own so that the admin routes can read it without loading the projector (and
 * its event schemas) into an API process.
 */
export const POISON_REASON = "poison event";
