// Package pii finds personal data (PII) and secrets in text in one pass.
//
// The scanner walks the text once. Lower-case letters, blanks and plain punctuation are skipped by a table
// lookup; only bytes that can start an entity (digits, '+', '(', '@', '=', ':', ',', '-', and words that are
// long, mixed-case or continued by a token character such as "sk-" or "fe80:") trigger work, and every candidate
// is confirmed by a validator: Luhn for cards, mod-97 and country lengths for IBANs, range rules for US SSNs,
// country calling codes and national lengths for phone numbers, base58check/bech32 for Bitcoin, check letters
// and digits for national IDs, vendor prefixes plus charset, length and entropy for secrets. No regular
// expression runs on the hot path; user-supplied custom patterns (Custom) are compiled once by the caller and
// run after the built-in pass.
//
// API: New(enabled TypeSet, custom []Custom) *Scanner; (*Scanner).Scan(text []byte, dst []Match) []Match and
// ScanString; Type/TypeSet/ParseType/AllTypes name the entity types; the validators (Luhn, IBANValid, ...) are
// exported for reuse.
//
// The package is pure (no proxy-wasm import, no goroutines, no reflection, no allocation per scan beyond dst)
// and shared: piimask masks requests with it and outputguard finds credentials in responses with it. It only
// depends on the standard library, so it can move to sdk/ (e.g. sdk/pii) unchanged.
//
// Offsets in Match are byte offsets into the scanned text.
package pii

// Type is an entity type. Its String form is the stable name used in configs, decision logs and datasets
// (EMAIL, PHONE, CREDIT_CARD, ...).
type Type uint8

// Built-in entity types. Secret types report IsSecret() == true.
const (
	None Type = iota
	Email
	Phone
	CreditCard
	IBAN
	USSSN
	IPAddress
	MACAddress
	Crypto
	UKNINO
	ESNIF
	ITFiscalCode
	INAadhaar
	PLPESEL
	FIPersonalIdentityCode
	SEPersonnummer
	CASIN
	SGNRICFIN
	USITIN
	KRRRN
	THTNIN
	ZAIDNumber
	Person       // learned tagger (ner.go), not in All()
	Address      // learned tagger (ner.go), not in All()
	Location     // learned tagger (ner.go), not in All()
	Organization // learned tagger (ner.go), not in All()
	DateOfBirth  // a date the words before call a date of birth (agedob.go)
	Age          // a number the words around call an age (agedob.go)

	firstSecret // marker: every type after it is a secret
	URLCredentials
	AWSAccessKey
	AWSSecretKey
	GCPAPIKey
	GCPServiceAccount
	AzureKey
	OpenAIKey
	AnthropicKey
	GitHubToken
	GitLabToken
	SlackToken
	StripeKey
	TwilioKey
	SendGridKey
	JWT
	PrivateKey
	APIKey
	GenericSecret
	HighEntropySecret
	numTypes
)

var typeNames = [numTypes]string{
	None:                   "",
	Email:                  "EMAIL",
	Phone:                  "PHONE",
	CreditCard:             "CREDIT_CARD",
	IBAN:                   "IBAN",
	USSSN:                  "US_SSN",
	IPAddress:              "IP_ADDRESS",
	MACAddress:             "MAC_ADDRESS",
	URLCredentials:         "URL_CREDENTIALS",
	Crypto:                 "CRYPTO",
	UKNINO:                 "UK_NINO",
	ESNIF:                  "ES_NIF",
	ITFiscalCode:           "IT_FISCAL_CODE",
	INAadhaar:              "IN_AADHAAR",
	PLPESEL:                "PL_PESEL",
	FIPersonalIdentityCode: "FI_PERSONAL_IDENTITY_CODE",
	SEPersonnummer:         "SE_PERSONNUMMER",
	CASIN:                  "CA_SIN",
	SGNRICFIN:              "SG_NRIC_FIN",
	USITIN:                 "US_ITIN",
	KRRRN:                  "KR_RRN",
	THTNIN:                 "TH_TNIN",
	ZAIDNumber:             "ZA_ID_NUMBER",
	Person:                 "PERSON",
	Address:                "ADDRESS",
	Location:               "LOCATION",
	Organization:           "ORGANIZATION",
	DateOfBirth:            "DATE_OF_BIRTH",
	Age:                    "AGE",
	firstSecret:            "",
	AWSAccessKey:           "AWS_ACCESS_KEY",
	AWSSecretKey:           "AWS_SECRET_KEY",
	GCPAPIKey:              "GCP_API_KEY",
	GCPServiceAccount:      "GCP_SERVICE_ACCOUNT_KEY",
	AzureKey:               "AZURE_KEY",
	OpenAIKey:              "OPENAI_API_KEY",
	AnthropicKey:           "ANTHROPIC_API_KEY",
	GitHubToken:            "GITHUB_TOKEN",
	GitLabToken:            "GITLAB_TOKEN",
	SlackToken:             "SLACK_TOKEN",
	StripeKey:              "STRIPE_KEY",
	TwilioKey:              "TWILIO_KEY",
	SendGridKey:            "SENDGRID_API_KEY",
	JWT:                    "JWT",
	PrivateKey:             "PRIVATE_KEY",
	APIKey:                 "API_KEY",
	GenericSecret:          "GENERIC_SECRET",
	HighEntropySecret:      "HIGH_ENTROPY_SECRET",
}

// String returns the stable name of t ("" for None).
func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return ""
}

// IsSecret reports whether t is a credential (never restored after masking).
func (t Type) IsSecret() bool { return t > firstSecret && t < numTypes }

// ParseType returns the type named name, or false.
func ParseType(name string) (Type, bool) {
	for i := Type(1); i < numTypes; i++ {
		if i != firstSecret && typeNames[i] == name {
			return i, true
		}
	}
	return None, false
}

// AllTypes returns every built-in type in declaration order.
func AllTypes() []Type {
	out := make([]Type, 0, numTypes)
	for i := Type(1); i < numTypes; i++ {
		if i != firstSecret {
			out = append(out, i)
		}
	}
	return out
}

// TypeSet is a set of built-in types.
type TypeSet uint64

// Has reports whether t is in the set.
func (s TypeSet) Has(t Type) bool { return s&(1<<t) != 0 }

// With returns the set plus t.
func (s TypeSet) With(t Type) TypeSet { return s | 1<<t }

// All is the set of every built-in rule-based type: every type but the learned NER types (NERTypes), which a
// caller adds explicitly.
func All() TypeSet {
	var s TypeSet
	for _, t := range AllTypes() {
		s = s.With(t)
	}
	return s &^ NERTypes()
}

// Match is one entity found in the text.
type Match struct {
	Type  Type
	Start int // byte offset of the first byte
	End   int // byte offset after the last byte
	// Custom is the name of the custom entity when Type is None (matched by a Custom rule).
	Custom string
	// Secret is true for credentials (built-in secret types and custom entities marked secret).
	Secret bool
}

// Name returns the entity name: the built-in type name or the custom entity name.
func (m Match) Name() string {
	if m.Type == None {
		return m.Custom
	}
	return m.Type.String()
}
