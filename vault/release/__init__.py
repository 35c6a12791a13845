"""Release: signed requests, approvals, bundles and their verification (DESIGN §9)."""
