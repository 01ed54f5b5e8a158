package gateway

// LocalReply is an answer a filter sent itself (proxy_send_local_response) instead of the upstream's.
type LocalReply struct {
	Status  int
	Headers [][2]string
	Body    []byte
	// Reset: no filter answered, the stream was reset; the gateway answers Status in the provider's error shape.
	Reset bool
}

// released is what the response side of the chain let through to the client after one step.
type released struct {
	Headers [][2]string // set once: the response headers (with :status) when they went downstream
	Data    []byte      // body bytes released by this step
	Reset   bool        // the stream was reset (e.g. a local reply after the headers went out)
	Done    bool        // the response is complete
}

// stream is one HTTP exchange through the filter chain. Calls are made in exchange order by one goroutine.
type stream interface {
	// requestHeaders and requestBody deliver the request; a non-nil reply ends the exchange.
	requestHeaders(h [][2]string, eos bool) (*LocalReply, error)
	requestBody(chunk []byte, eos bool) (*LocalReply, error)
	// upstreamRequest is the complete request as the chain released it (ok false: it never completed).
	upstreamRequest() (h [][2]string, body []byte, ok bool)
	// responseHeaders and responseBody deliver the upstream's answer (h starts with :status).
	responseHeaders(h [][2]string, eos bool) (released, error)
	responseBody(chunk []byte, eos bool) (released, error)
	close()
}

// engine opens streams on a pool of VMs and reports the filters' metrics.
type engine interface {
	open(route string) (stream, error)
	metrics() []Metric
	close()
}

// Metric is one filter metric, summed over the VMs.
type Metric struct {
	Name  string
	Type  string // counter, gauge or histogram
	Value int64
}

// passthrough is the engine of a gateway without filters (the baseline of `make bench`).
type passthrough struct{}

func (passthrough) open(string) (stream, error) { return &passStream{}, nil }
func (passthrough) metrics() []Metric           { return nil }
func (passthrough) close()                      {}

type passStream struct {
	h    [][2]string
	body []byte
	done bool
}

func (p *passStream) requestHeaders(h [][2]string, eos bool) (*LocalReply, error) {
	p.h, p.done = h, eos
	return nil, nil
}

func (p *passStream) requestBody(b []byte, eos bool) (*LocalReply, error) {
	p.body = append(p.body, b...)
	p.done = eos
	return nil, nil
}

func (p *passStream) upstreamRequest() ([][2]string, []byte, bool) { return p.h, p.body, p.done }

func (p *passStream) responseHeaders(h [][2]string, eos bool) (released, error) {
	return released{Headers: h, Done: eos}, nil
}

func (p *passStream) responseBody(b []byte, eos bool) (released, error) {
	return released{Data: b, Done: eos}, nil
}

func (p *passStream) close() {}
