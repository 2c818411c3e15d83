-- Claim-next reads two partial indexes whose order is exactly the claim
-- order (severity, resolution due, priority, age, id), so that it never
-- sorts and never reads claimed or resolved cases, however stale the
-- planner's statistics: `cases_unclaimed` holds only open cases nobody
-- holds; `cases_leased` only open cases under a lease, the few whose lease
-- may have lapsed (at most CLAIMS_PER_USER_MAX per analyst). The query texts
-- in src/sql/claims.rs repeat these predicates word for word.
DROP INDEX cases_claimable;
CREATE INDEX cases_unclaimed ON cases (queue, severity DESC, resolve_due_at, priority DESC, opened_at, id) WHERE status IN ('new', 'in_review', 'reopened', 'escalated') AND assignee_id IS NULL;
CREATE INDEX cases_leased ON cases (queue, severity DESC, resolve_due_at, priority DESC, opened_at, id) WHERE status IN ('new', 'in_review', 'reopened', 'escalated') AND assignee_id IS NOT NULL AND held = 0;
