package load

import (
	"testing"
)

func TestParseMix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    Mix
		wantErr bool
	}{
		{"the documented mix", "valid=90,invalid=5,missing=3,expired=2", Mix{90, 5, 3, 2, 0}, false},
		{"spaces are allowed", " valid = 1 , missing=1", Mix{1, 0, 1, 0, 0}, false},
		{"a repeated kind adds up", "valid=1,valid=2", Mix{3, 0, 0, 0, 0}, false},
		{"an unknown kind is refused", "valid=9,bogus=1", Mix{}, true},
		{"issue is not a validate kind", "issue=1", Mix{}, true},
		{"a negative weight is refused", "valid=-1", Mix{}, true},
		{"all zero is refused", "valid=0", Mix{}, true},
		{"a pair without = is refused", "valid", Mix{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseMix(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseMix(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("ParseMix(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestMixScheduleKeepsShares(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"valid=90,invalid=5,missing=3,expired=2", "valid=1,invalid=1", "missing=7", "valid=3,expired=5"} {
		m, err := ParseMix(in)
		if err != nil {
			t.Fatal(err)
		}
		sched := m.schedule()
		if len(sched) != m.total() {
			t.Fatalf("%s: cycle of %d, want %d", in, len(sched), m.total())
		}
		var got Mix
		for _, k := range sched {
			got[k]++
		}
		if got != m {
			t.Errorf("%s: one cycle has %v, want %v", in, got, m)
		}
	}
}

func TestMixScheduleSpreadsKinds(t *testing.T) {
	t.Parallel()
	m := Mix{KindValid: 2, KindInvalid: 2}
	sched := m.schedule()
	for i := 1; i < len(sched); i++ {
		if sched[i] == sched[i-1] {
			t.Fatalf("schedule %v repeats a kind although an even spread alternates", sched)
		}
	}
}
