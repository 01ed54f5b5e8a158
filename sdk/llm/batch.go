package llm

import "fmt"

// Batch containers: each inner request is read with its own format's parser, and its segments' Message indices
// continue after the previous request's (Request.Messages is the total). Model is the last request's; stream and
// token limits do not apply to a batch and stay unset: Request.Batch sums the inner requests' output limits.
//
//	anthropic_batch  {"requests": [{"custom_id": "…", "params": {…Messages request…}}]}
//	gemini_batch     {"batch": {"inputConfig"|"input_config": {"requests": {"requests": [{"request": {…}}]}}}}

func (p *reqParser) batch(inner func(val) error, reqs []val) error {
	total := 0
	model := ""
	for _, r := range reqs {
		if r.k != kObject {
			continue
		}
		start, astart := len(p.req.Segments), len(p.req.Attachments)
		p.req.Messages, p.req.MaxTokens, p.req.MaxTokensField, p.req.Choices = 0, 0, "", 0
		if err := inner(r); err != nil {
			return err
		}
		p.req.Batch.Requests++
		if p.req.MaxTokensField != "" {
			p.req.Batch.Output += p.req.MaxTokens * p.req.Outputs()
		} else {
			p.req.Batch.Unlimited += p.req.Outputs()
		}
		for i := start; i < len(p.req.Segments); i++ {
			if p.req.Segments[i].Message >= 0 {
				p.req.Segments[i].Message += total
			}
		}
		for i := astart; i < len(p.req.Attachments); i++ {
			if p.req.Attachments[i].Message >= 0 {
				p.req.Attachments[i].Message += total
			}
		}
		total += p.req.Messages
		if p.req.Model != "" {
			model = p.req.Model
		}
	}
	p.req.Messages, p.req.Model = total, model
	p.req.Stream, p.req.StreamUsage, p.req.MaxTokens, p.req.MaxTokensField, p.req.Choices = false, false, 0, "", 0
	return nil
}

func (p *reqParser) anthropicBatch(r val) error {
	b := p.b
	var reqs []val
	for c := copiesOf(b, r, "requests"); ; {
		list, ok := c.next()
		if !ok {
			break
		}
		if list.k != kArray {
			return fmt.Errorf("requests: expected array, got %s", list.k)
		}
		it := list.iter(b)
		for {
			_, item, ok := it.next()
			if !ok {
				break
			}
			reqs = appendCopies(b, reqs, item, "params")
		}
	}
	return p.batch(p.anthropic, reqs)
}

func (p *reqParser) geminiBatch(r val) error {
	b := p.b
	var reqs []val
	for _, batch := range appendCopies(b, nil, r, "batch") {
		var cfgs []val
		cfgs = appendCopies(b, cfgs, batch, "inputConfig")
		cfgs = appendCopies(b, cfgs, batch, "input_config")
		for _, cfg := range cfgs {
			for _, outer := range appendCopies(b, nil, cfg, "requests") {
				for _, list := range appendCopies(b, nil, outer, "requests") {
					it := list.iter(b)
					for {
						_, item, ok := it.next()
						if !ok {
							break
						}
						reqs = appendCopies(b, reqs, item, "request")
					}
				}
			}
		}
	}
	return p.batch(p.gemini, reqs)
}

// appendCopies appends every copy (exact or folded) of member key of object o.
func appendCopies(b []byte, dst []val, o val, key string) []val {
	for c := copiesOf(b, o, key); ; {
		v, ok := c.next()
		if !ok {
			return dst
		}
		dst = append(dst, v)
	}
}
