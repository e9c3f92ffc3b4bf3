// Package dashboard computes the figures behind the console's dashboard: cases per day
// by kind, the open backlog by queue and age, money waiting for approval and approved
// (per currency, never summed across currencies), missed follow-up deadlines and the
// time from call to decision.
//
// Every query is a read-only aggregate in raw, parameterised SQL. The windowed ones
// cover the last 30 days only and lean on the cases indexes of migration 00001
// (cases_created, cases_open, cases_deadline); the open-backlog ones scan only open
// cases through the cases_open partial index. The status lists inside the SQL are
// literals on purpose: the planner can only use a partial index whose predicate it
// can prove from constants, not from bind parameters.
//
// Loading everything costs a few hundred milliseconds at a million calls, so Service
// keeps the last result for 30 seconds and lets one request at a time refresh it.
package dashboard
