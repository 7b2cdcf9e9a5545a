package conformance

import (
	"strings"
	"testing"
)

// TestRequiredBecause: an endpoint that answers 404 or 405 may be absent
// only when the flow document marks it optional and neither the user nor
// the target's metadata asks for it.
func TestRequiredBecause(t *testing.T) {
	t.Parallel()
	const doc, cfg = "the flow document", "the configuration"
	tests := []struct {
		name                           string
		source                         string
		optional, required, advertised bool
		want                           string // substring of the reason; "" for none
	}{
		{"optional in the document", doc, true, false, false, ""},
		{"optional but required by the user", doc, true, true, false, "--require revocation"},
		{"optional but advertised", doc, true, false, true, "metadata advertises a revocation_endpoint"},
		{"declared and not optional", doc, false, false, false, "does not mark it optional"},
		{"named by the configuration", cfg, false, false, false, "the configuration names it"},
		{"named by metadata", "RFC 8414 metadata", false, false, false, "RFC 8414 metadata names it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := requiredBecause(revocationKind, tt.source, tt.optional, tt.required, tt.advertised)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("requiredBecause = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOfferJudgeIsACheckOfItsArea(t *testing.T) {
	t.Parallel()
	for kind, prefix := range map[string]string{revocationKind: "REV-", introspectionKind: "INTRO-"} {
		if judge := offerJudge(kind); !strings.HasPrefix(judge, prefix) {
			t.Errorf("offerJudge(%s) = %s, not a %s check", kind, judge, prefix)
		}
	}
}
