// Package budget is the pure logic of the tokenbudget filter: budget keys, fixed time windows, the
// reserve → reconcile → refund accounting, price tables, a fast local token estimator, the per-host
// shared-data ledger (a CAS state machine over a small Store interface) and the Redis commands sent to
// the cluster-wide engine (webdis). It has no proxywasm import, so it is unit-tested natively and can be
// used by command-line tools.
//
// # Accounting model
//
// A request is charged in three steps. Before it is forwarded, the filter reserves the estimated input
// tokens plus the request's max_tokens (or a configured default) on every counter that applies to it
// (one counter per budget, key and window); if any counter would exceed its limit, nothing is reserved
// and the request is refused. After the response, the reservation is reconciled with the provider's usage:
// the difference (usually negative, a refund) is added to the same counters. Counters carry the window
// they belong to, so a delta that arrives after its window ended is dropped rather than charged to the
// next window.
package budget
