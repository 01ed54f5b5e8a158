// Package tokenbudget is the end-to-end test of the tokenbudget filter against a real cluster-wide engine:
// redis-server with webdis in front of it, both started on free loopback ports by the tests themselves,
// and two `hostsim serve` gateways running the built dist/tokenbudget.wasm that share one budget.
//
// The tests need /usr/bin/redis-server and /usr/bin/webdis (Debian packages redis-server and webdis; or
// set REDIS_SERVER and WEBDIS to their paths). When they are missing the tests skip locally and fail when
// CI=true (or WASMGUARD_REQUIRE_E2E=1). The gateway test builds hostsim/cmd/hostsim (or uses $HOSTSIM_BIN) and
// needs dist/tokenbudget.wasm (`make tokenbudget`).
package tokenbudget
