package web

// CheckToken applies the minimum credential lengths for a UI on addr, as
// New does: `tally config check` calls it so that it refuses what the
// agent would.
func CheckToken(addr, token string) error { return checkToken(addr, token) }
