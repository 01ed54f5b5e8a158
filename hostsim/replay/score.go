package replay

import (
	"sort"
	"strings"

	"github.com/wasmguard/wasmguard/sdk/pii"
)

// Span is a typed finding located in a record's text, in code points (end exclusive), as the datasets count.
type Span struct {
	Type       string
	Start, End int
}

// Outcome is what a filter did with one wrapped record.
type Outcome struct {
	// Flagged: the filter reported the record (a decision other than allow, a block, or an annotation).
	Flagged bool
	Blocked bool // answered with a local reply instead of forwarding
	Status  int  // status the client got
	Reason  string
	Score   float64
	Spans   []Span // findings inside the record text (PII / secrets)
	Err     string // the exchange failed (the filter trapped, the host errored)
}

// Counts are a group's confusion counts. For label-scored schemas every record is one trial. For span-scored
// schemas (PII) TP, FN and FP count spans, TN and the FPR count records: a record without a labelled span of the
// type is a negative trial, flagged when the filter reported any span of that type in it.
type Counts struct {
	N, TP, FP, FN, TN      int
	negRecords, negFlagged int // span schemas: record-level negatives for the FPR
	spanScored             bool
}

// Stats is a group's entry in the JSON report. Ratios are null when undefined (no denominator).
type Stats struct {
	N         int      `json:"n"`
	TP        int      `json:"tp"`
	FP        int      `json:"fp"`
	FN        int      `json:"fn"`
	TN        int      `json:"tn"`
	Precision *float64 `json:"precision"`
	Recall    *float64 `json:"recall"`
	FPR       *float64 `json:"fpr"`
}

func ratio(a, b int) *float64 {
	if b == 0 {
		return nil
	}
	v := float64(a) / float64(b)
	v = float64(int64(v*10000+0.5)) / 10000
	return &v
}

// Stats computes the ratios.
func (c *Counts) Stats() Stats {
	s := Stats{N: c.N, TP: c.TP, FP: c.FP, FN: c.FN, TN: c.TN,
		Precision: ratio(c.TP, c.TP+c.FP), Recall: ratio(c.TP, c.TP+c.FN)}
	if c.spanScored {
		s.FPR = ratio(c.negFlagged, c.negRecords)
	} else {
		s.FPR = ratio(c.FP, c.FP+c.TN)
	}
	return s
}

func (c *Counts) add(o *Counts) {
	c.N += o.N
	c.TP += o.TP
	c.FP += o.FP
	c.FN += o.FN
	c.TN += o.TN
	c.negRecords += o.negRecords
	c.negFlagged += o.negFlagged
	c.spanScored = c.spanScored || o.spanScored
}

// GroupOf names the group a record is scored in for label-scored schemas: its kind (injection, output), or
// `secret` / `negative` by label (secrets).
func GroupOf(s Schema, r *Record) string {
	switch s {
	case SchemaSecrets:
		if r.Label == 1 {
			return "secret"
		}
		return "negative"
	}
	if r.Kind == "" {
		return "unknown"
	}
	return r.Kind
}

// typeAliases maps the entity type names a filter may report onto the datasets' names (presidio's).
var typeAliases = map[string]string{
	"EMAIL_ADDRESS": "EMAIL", "MAIL": "EMAIL",
	"PHONE_NUMBER": "PHONE", "TELEPHONE": "PHONE",
	"IP": "IP_ADDRESS", "IPV4": "IP_ADDRESS", "IPV6": "IP_ADDRESS", "IPV4_ADDRESS": "IP_ADDRESS", "IPV6_ADDRESS": "IP_ADDRESS",
	"SSN": "US_SSN", "CARD": "CREDIT_CARD", "CREDIT_CARD_NUMBER": "CREDIT_CARD", "PAYMENT_CARD": "CREDIT_CARD",
	"IBAN_CODE": "IBAN", "MAC": "MAC_ADDRESS", "CRYPTO_WALLET": "CRYPTO", "BITCOIN_ADDRESS": "CRYPTO",
	"PERSON_NAME": "PERSON", "NAME": "PERSON", "ITIN": "US_ITIN", "US_PASSPORT_NUMBER": "US_PASSPORT",
	"NHS": "UK_NHS", "NINO": "UK_NINO", "POSTCODE": "UK_POSTCODE", "AADHAAR": "IN_AADHAAR", "PESEL": "PL_PESEL",
	"SIN": "CA_SIN", "NRIC": "SG_NRIC_FIN", "SG_FIN": "SG_NRIC_FIN", "TFN": "AU_TFN", "RRN": "KR_RRN",
	"DOMAIN": "DOMAIN_NAME", "URI": "URL",
	// the datasets label every date DATE_TIME; a date of birth is one of them
	"DATE_OF_BIRTH": "DATE_TIME", "DOB": "DATE_TIME",
}

// NormalizeType maps a reported entity type to the datasets' vocabulary: upper case, '-', '.' and ' ' as '_',
// then known aliases (email_address → EMAIL, ipv4 → IP_ADDRESS, ssn → US_SSN, ...).
func NormalizeType(t string) string {
	u := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_", " ", "_").Replace(strings.TrimSpace(t)))
	if a, ok := typeAliases[u]; ok {
		return a
	}
	return u
}

// piiTypes are the PII entity types of pii.jsonl; a finding of one of them in a secrets record is not a secret
// detection.
var piiTypes = map[string]bool{"PERSON": true, "ADDRESS": true, "LOCATION": true, "ORGANIZATION": true,
	"CREDIT_CARD": true, "PHONE": true, "DATE_TIME": true, "IBAN": true, "TITLE": true, "EMAIL": true,
	"IP_ADDRESS": true, "AGE": true, "US_SSN": true, "DOMAIN_NAME": true, "NRP": true, "ZIP_CODE": true, "URL": true,
	"MAC_ADDRESS": true, "UK_POSTCODE": true, "PREFIX": true}

// Score computes per-group counts and the overall counts of a schema's records and outcomes (same order).
// Records whose exchange failed (Outcome.Err) count as not flagged: a filter that traps detects nothing.
func Score(s Schema, recs []Record, outs []Outcome) (map[string]*Counts, Counts) {
	groups := map[string]*Counts{}
	get := func(g string) *Counts {
		c := groups[g]
		if c == nil {
			c = &Counts{}
			groups[g] = c
		}
		return c
	}
	switch s {
	case SchemaPII, SchemaPIIValues:
		universe := map[string]bool{}
		for i := range recs {
			for _, e := range recs[i].Entities {
				universe[e.Type] = true
			}
			for _, t := range recs[i].LabelledTypes {
				universe[t] = true
			}
		}
		all := make([]string, 0, len(universe))
		for t := range universe {
			all = append(all, t)
		}
		sort.Strings(all)
		for i := range recs {
			types := recs[i].LabelledTypes
			if types == nil {
				types = all
			}
			for _, t := range types {
				c := get(t)
				c.spanScored = true
				scoreSpans(c, t, &recs[i], &outs[i])
			}
		}
	default:
		for i := range recs {
			if recs[i].Label < 0 {
				continue
			}
			c := get(GroupOf(s, &recs[i]))
			c.N++
			hit := outs[i].Err == "" && outs[i].Flagged
			if s == SchemaSecrets {
				hit = outs[i].Err == "" && secretFound(&outs[i])
			}
			switch {
			case recs[i].Label == 1 && hit:
				c.TP++
			case recs[i].Label == 1:
				c.FN++
			case hit:
				c.FP++
			default:
				c.TN++
			}
		}
	}
	var overall Counts
	for _, c := range groups {
		overall.add(c)
	}
	return groups, overall
}

// secretFound: a secrets record is detected when the filter reported a credential finding, or flagged the record
// without typed findings. A type sdk/pii knows is a credential when sdk/pii says so (national IDs, wallets and MAC
// addresses are PII, not secrets); any other type counts unless it is one of the PII types of pii.jsonl.
func secretFound(o *Outcome) bool {
	if len(o.Spans) == 0 {
		return o.Flagged
	}
	for _, sp := range o.Spans {
		if t, ok := pii.ParseType(sp.Type); ok {
			if t.IsSecret() {
				return true
			}
			continue
		}
		if !piiTypes[NormalizeType(sp.Type)] {
			return true
		}
	}
	return false
}

func overlaps(a0, a1, b0, b1 int) bool { return a0 < b1 && b0 < a1 }

// scoreSpans scores type t of one record: a labelled span is found when a reported span of the same type
// overlaps it; a reported span overlapping no labelled span of its type is a false positive.
func scoreSpans(c *Counts, t string, r *Record, o *Outcome) {
	c.N++
	var gold [][2]int
	for _, e := range r.Entities {
		if e.Type == t && e.HasSpan {
			gold = append(gold, [2]int{e.Start, e.End})
		}
	}
	var pred [][2]int
	if o.Err == "" {
		for _, sp := range o.Spans {
			if NormalizeType(sp.Type) == t {
				pred = append(pred, [2]int{sp.Start, sp.End})
			}
		}
	}
	for _, g := range gold {
		found := false
		for _, p := range pred {
			if overlaps(g[0], g[1], p[0], p[1]) {
				found = true
				break
			}
		}
		if found {
			c.TP++
		} else {
			c.FN++
		}
	}
	for _, p := range pred {
		hit := false
		for _, g := range gold {
			if overlaps(g[0], g[1], p[0], p[1]) {
				hit = true
				break
			}
		}
		if !hit {
			c.FP++
		}
	}
	if len(gold) == 0 {
		c.negRecords++
		if len(pred) > 0 {
			c.negFlagged++
		} else {
			c.TN++
		}
	}
}
