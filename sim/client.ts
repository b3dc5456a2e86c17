import { isSeamHttpApiError, SeamHttp } from "@seamapi/http/connect";

/**
 * The official client pointed at a simulator, as the service's own Seam client is: the
 * simulator's tests speak to it through @seamapi/http, so its answers are checked by the client
 * the service uses.
 */
export const createSimClient = (sim: { apiKey: string; url: string }) =>
  // Enrollment automations are "undocumented" in @seamapi/http 1.102.0: the client refuses them unless told.
  new SeamHttp({ apiKey: sim.apiKey, endpoint: sim.url, isUndocumentedApiEnabled: true });

/** The status and Seam error code a call failed with; throws when it did not fail that way. */
export const seamErrorOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isSeamHttpApiError(error))
    throw new Error(`expected a Seam API error, got ${String(error)}`);
  return { status: error.statusCode, code: error.code };
};
