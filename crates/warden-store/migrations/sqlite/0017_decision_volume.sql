-- Decisions by the time they were made: a sampling plan's expected weekly
-- load counts the last weeks' decisions per stratum, and the window pass
-- reads a week's decisions, both by a range of `decided_at`.
CREATE INDEX decisions_decided_at ON decisions (decided_at, id);
