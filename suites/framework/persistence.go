package framework

// PersistenceCheckID is the check that re-sends the valid token after the
// forgery and bad-token checks (jwt_tool's persistence check).
const PersistenceCheckID = "BEAR-025"

// PersistenceDependents returns the checks whose PASS is a refusal seen
// before PersistenceCheckID runs: when it fails, Summarize reports them
// INCONCLUSIVE, as the catalog says ("else those verdicts are
// INCONCLUSIVE"). Built afresh on each call.
func PersistenceDependents() []string {
	return []string{
		"BEAR-004", "BEAR-005", "BEAR-007", "BEAR-008", "BEAR-009", "BEAR-011", "BEAR-013", "BEAR-015",
		"BEAR-019", "BEAR-021", "BEAR-022", "BEAR-023",
		"JWT-004", "JWT-005", "JWT-006", "JWT-007", "JWT-008", "JWT-010", "JWT-011", "JWT-012",
	}
}
