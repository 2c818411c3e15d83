-- Claim-next walks this index in queue order and stops at the first case
-- nobody holds; a status IN (...) in the middle of the old index made every
-- claim sort the whole queue.
DROP INDEX cases_claim;
CREATE INDEX cases_claimable ON cases (queue, severity DESC, resolve_due_at, priority DESC, opened_at, id) WHERE status IN ('new', 'in_review', 'reopened', 'escalated');
