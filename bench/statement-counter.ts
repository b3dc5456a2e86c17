import { runStatementCounterProcess } from "./pg-statement-counter.js";

/** Entry of the statement-counting proxy's own process (see runStatementCounterProcess). */
await runStatementCounterProcess();
