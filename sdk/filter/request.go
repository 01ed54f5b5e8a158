package filter

import (
	"github.com/wasmguard/wasmguard/sdk/body"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"

	"github.com/wasmguard/wasmguard/sdk/config"
)

// RequestInfo reads what rules match on, including the route name. See ReadRequestInfo.
func RequestInfo(consumerHeader string) *config.RequestInfo {
	return ReadRequestInfo(consumerHeader, true)
}

// ReadRequestInfo reads the request headers with one pairs call and fills a config.RequestInfo:
// Host from :authority (or host), Path from :path, Method from :method, RequestID from x-request-id,
// Consumer from consumerHeader (lower-case; "" for none). With withRoute it also reads the route name
// (property xds.route_name on Envoy, kong.route_name on Kong), one more host call; pass
// routed.UsesRoute() to skip it when no rule matches on routes. Call it in OnHttpRequestHeaders (the
// only phase in which every host exposes the request headers).
//
// Hosts that do not list pseudo-headers in the pairs (some Kong versions) fall back to the
// request.path and request.method properties. A failing header read gives an empty Headers list, not
// an error: rules then match on what is known, and the filter's checks still run.
func ReadRequestInfo(consumerHeader string, withRoute bool) *config.RequestInfo {
	hs, _ := getRequestHeaders()
	ri := RequestInfoFromHeaders(hs, consumerHeader)
	if ri.Path == "" {
		if v, ok := PropertyString("request", "path"); ok {
			ri.Path = v
		}
	}
	if ri.Method == "" {
		if v, ok := PropertyString("request", "method"); ok {
			ri.Method = v
		}
	}
	if withRoute {
		ri.Route = RouteName()
	}
	return ri
}

// RequestInfoFromHeaders fills a config.RequestInfo from a header list (names lower-case, as every
// host returns them) without any host call. Host prefers :authority over host; RequestID prefers
// x-request-id over Kong's x-kong-request-id; the first value of a repeated header wins.
func RequestInfoFromHeaders(hs [][2]string, consumerHeader string) *config.RequestInfo {
	ri := &config.RequestInfo{Headers: hs}
	var host, kongID string
	for i := range hs {
		k, v := hs[i][0], hs[i][1]
		switch {
		case k == ":authority":
			if ri.Host == "" {
				ri.Host = v
			}
		case k == "host":
			if host == "" {
				host = v
			}
		case k == ":path":
			if ri.Path == "" {
				ri.Path = v
			}
		case k == ":method":
			if ri.Method == "" {
				ri.Method = v
			}
		case k == "x-request-id":
			if ri.RequestID == "" {
				ri.RequestID = v
			}
		case k == "x-kong-request-id":
			if kongID == "" {
				kongID = v
			}
		}
		if consumerHeader != "" && k == consumerHeader && ri.Consumer == "" {
			ri.Consumer = v
		}
	}
	if ri.Host == "" {
		ri.Host = host
	}
	if ri.RequestID == "" {
		ri.RequestID = kongID
	}
	return ri
}

// RouteName returns the name of the route the request matched: Envoy's xds.route_name, else Kong's
// kong.route_name; "" when the host knows none.
func RouteName() string {
	if v, ok := PropertyString("xds", "route_name"); ok && v != "" {
		return v
	}
	if v, ok := PropertyString("kong", "route_name"); ok {
		return v
	}
	return ""
}

// PropertyString reads a string property; ok is false when the host does not have it.
func PropertyString(path ...string) (string, bool) {
	b, err := proxywasm.GetProperty(path)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// DropRequestContentLength removes content-length from the request headers so the body can be
// replaced with one of a different size. Call it in OnHttpRequestHeaders: Envoy forwards the headers
// when that callback returns Continue, and later changes fail.
func DropRequestContentLength() error {
	return removeRequestHeader("content-length")
}

// DropResponseContentLength removes content-length from the response headers; call it in
// OnHttpResponseHeaders when the response body may be rewritten.
func DropResponseContentLength() error {
	return RemoveResponseHeader("content-length")
}

// AskIdentityEncoding removes accept-encoding from the request so the upstream answers uncompressed.
// Call it in OnHttpRequestHeaders when the filter must read a streamed (SSE) response: a compressed
// stream cannot be decoded chunk by chunk inside the filter.
func AskIdentityEncoding() error {
	return removeRequestHeader("accept-encoding")
}

// RestrictAcceptEncoding narrows the request's accept-encoding to the codings sdk/body can re-encode
// (body.AcceptEncoding: gzip, deflate, zstd), or removes it when none is left. Call it in
// OnHttpRequestHeaders when the filter may rewrite a non-streamed response body; for streamed
// responses use AskIdentityEncoding.
func RestrictAcceptEncoding(ri *config.RequestInfo) error {
	v, ok := ri.Header("accept-encoding")
	if !ok {
		return nil
	}
	nv := body.AcceptEncoding(v)
	if nv == v {
		return nil
	}
	if nv == "" {
		return removeRequestHeader("accept-encoding")
	}
	return replaceRequestHeader("accept-encoding", nv)
}
